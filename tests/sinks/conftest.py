"""Stores for the sink tests (real servers, see docs/services.md) and records of every kind.

PostgreSQL: each test gets its own schema (dropped after), so tests and other suites sharing
the server never see each other's rows. ClickHouse: chdb allows one data directory per
process, so the process gets one fresh directory and each test starts from empty tables.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from mdp.model import (
    BestBidOffer,
    BookDelta,
    BookSnapshot,
    Candle,
    FundingRate,
    Gap,
    Instrument,
    Liquidation,
    MarketType,
    MarkPrice,
    Quality,
    QualityLevel,
    Record,
    Resync,
    Side,
    SourceState,
    SourceStatus,
    Trade,
)
from mdp.sinks import TABLES, connect_clickhouse

D = Decimal
PG_DSN = os.environ.get("MDP_PG_DSN", "postgresql://mdp@127.0.0.1:15432/mdp")
NOW = 1_764_547_200_123_456_789  # ns that a timestamptz (µs) cannot hold
_schemas = itertools.count()

SPOT = Instrument(
    exchange="binance", market=MarketType.SPOT, native_symbol="BTCUSDT", symbol="BTC/USDT"
)
PERP = Instrument(
    exchange="okx",
    market=MarketType.PERPETUAL,
    native_symbol="BTC-USDT-SWAP",
    symbol="BTC/USDT:USDT",
)
# Exact values a binary float or a narrow decimal would change.
BIG = D("123456789012345.123456789")
TINY = D("1E-18")
PRICES = [D("68000.10"), BIG, D("0.00000123"), D("42")]
SIZES = [D("0.01000"), TINY, D("3.5"), D("1000000")]


def pg_dsn_for(schema: str) -> str:
    return f"{PG_DSN}{'&' if '?' in PG_DSN else '?'}options=-csearch_path%3D{schema},public"


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    schema = f"sinks_test_{os.getpid()}_{next(_schemas)}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield pg_dsn_for(schema)
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


_chdb_dir = tempfile.TemporaryDirectory(prefix="mdp-sinks-chdb-")


@pytest.fixture
def ch_dsn() -> str:
    dsn = f"chdb://{_chdb_dir.name}"
    client = connect_clickhouse(dsn)
    try:
        tables = {row[0] for row in client.query("SHOW TABLES").result_rows}
        for table in TABLES.values():
            if table.name in tables:
                client.command(f"TRUNCATE TABLE {table.name}")
    finally:
        client.close()
    return dsn


@pytest.fixture
def lake_root(tmp_path: Path) -> Path:
    return tmp_path / "lake"


def _header(i: int, instrument: Instrument = SPOT) -> dict[str, Any]:
    """Times, sequence, quality and extras that vary with ``i`` (None where optional)."""
    receive = NOW + i * 1_001
    return {
        "instrument": instrument if i % 3 else PERP,
        "receive_time_ns": receive,
        "exchange_time_ns": receive - 700 if i % 2 else None,
        "match_time_ns": receive - 900 if i % 4 == 1 else None,
        "sequence": i,
        "quality": Quality(QualityLevel.SUSPICIOUS, ("price_jump", "id_gap"))
        if i % 5 == 0
        else Quality(),
        "extra": (("checksum_text", "68000.10:1"),) if i % 7 == 0 else (),
    }


def _levels(i: int) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((PRICES[(i + k) % 4], SIZES[(i + k) % 4]) for k in range(i % 4))


def records_of_every_kind(n: int = 12) -> list[Record]:
    """``n`` records of each kind, with distinct natural keys, exact awkward decimals and
    nanosecond times; optional fields both present and absent."""
    out: list[Record] = []
    for i in range(1, n + 1):
        h = _header(i)
        p, s = PRICES[i % 4], SIZES[i % 4]
        opt = (lambda v: v) if i % 2 else (lambda v: None)
        out += [
            Trade(**h, trade_id=i, price=p, size=s, side=Side.BUY if i % 2 else Side.SELL),
            BookSnapshot(
                **h, last_update_id=1000 + i, bids=_levels(i), asks=_levels(i + 1), checksum=opt(-i)
            ),
            BookDelta(
                **h,
                first_update_id=2000 + i * 10,
                final_update_id=2000 + i * 10 + 9,
                prev_final_update_id=opt(2000 + i * 10 - 1),
                bids=_levels(i + 2),
                asks=_levels(i + 3),
                checksum=opt(i),
            ),
            BestBidOffer(
                **h, bid_price=p, bid_size=s, ask_price=p + TINY, ask_size=BIG, update_id=opt(i)
            ),
            FundingRate(
                **h,
                rate=D("0.0001") * i,
                predicted_rate=opt(D("-0.00012")),
                funding_time_ns=opt(NOW + 8),
                next_funding_time_ns=opt(NOW + 9),
            ),
            MarkPrice(**h, mark_price=p, index_price=opt(BIG), estimated_settle_price=opt(TINY)),
            Liquidation(
                **h,
                side=Side.SELL,
                price=p,
                size=s,
                average_price=opt(p),
                filled_size=opt(s),
                status="FILLED" if i % 2 else "",
            ),
            Candle(
                **h,
                interval_ns=60_000_000_000,
                open_time_ns=NOW + i * 60_000_000_000,
                open=p,
                high=BIG,
                low=TINY,
                close=p,
                volume=s,
                quote_volume=opt(BIG),
                trade_count=opt(i),
                closed=bool(i % 2),
            ),
            Gap(
                **h,
                stream="trade",
                first_missing=i * 100,
                last_missing=i * 100 + 5,
                reason="ws reconnect",
            ),
            Resync(**h, stream="depth", reason="gap", old_sequence=opt(i), new_sequence=opt(i + 9)),
            SourceStatus(
                **h,
                stream="ws-0",
                state=SourceState.LIVE if i % 2 else SourceState.STALE,
                detail="ok" if i % 2 else "",
            ),
        ]
    return out


def trades(start: int, stop: int) -> list[Trade]:
    """Trades ``start..stop-1`` of one spot instrument, ids = numbers."""
    return [
        Trade(
            instrument=SPOT,
            receive_time_ns=NOW + i * 1_000,
            exchange_time_ns=NOW + i * 1_000 - 500,
            trade_id=i,
            price=D("68000.10") + D(i % 100) / 100,
            size=D("0.00123") * (i % 7 + 1),
            side=Side.BUY,
        )
        for i in range(start, stop)
    ]


def stripped(record: Record) -> Record:
    """``record`` as a store gives it back: instruments without tick and lot."""
    import attrs

    i = record.instrument
    bare = Instrument(
        exchange=i.exchange, market=i.market, native_symbol=i.native_symbol, symbol=i.symbol
    )
    return attrs.evolve(record, instrument=bare)
