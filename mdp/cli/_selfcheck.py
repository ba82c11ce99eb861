"""``mdp selfcheck``.

Builds one record of every kind, sends each through the wire format alone and in batches,
and checks that what comes back is what went in — the smallest run of the platform there is.
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal
from typing import Any

from mdp import wire
from mdp._version import SCHEMA_VERSION, __version__
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
    Record,
    Resync,
    Side,
    SourceState,
    SourceStatus,
    Trade,
)


def register(subparsers: Any) -> None:
    check = subparsers.add_parser(
        "selfcheck", help="round-trip one record of every kind through the wire format"
    )
    check.set_defaults(handler=run)


def sample_records() -> list[Record]:
    """One record of every kind, about a Binance-like spot and perpetual instrument."""
    spot = Instrument(
        exchange="binance",
        market=MarketType.SPOT,
        native_symbol="BTCUSDT",
        symbol="BTC/USDT",
        tick=Decimal("0.01"),
        lot=Decimal("0.00001"),
    )
    perp = Instrument(
        exchange="binance",
        market=MarketType.PERPETUAL,
        native_symbol="BTCUSDT",
        symbol="BTC/USDT:USDT",
        tick=Decimal("0.1"),
        lot=Decimal("0.001"),
    )
    now = time.time_ns()
    levels = ((Decimal("68000.10"), Decimal("1.5")), (Decimal("67999.90"), Decimal("0.25")))
    asks = ((Decimal("68000.20"), Decimal("0.75")),)
    common: dict[str, Any] = {"receive_time_ns": now, "exchange_time_ns": now - 1_000_000}
    return [
        Trade(
            instrument=spot,
            trade_id=1,
            price=Decimal("68000.10"),
            size=Decimal("0.00001"),
            side=Side.BUY,
            match_time_ns=now - 1_200_000,
            **common,
        ),
        BookSnapshot(instrument=spot, last_update_id=100, bids=levels, asks=asks, **common),
        BookDelta(
            instrument=perp,
            first_update_id=101,
            final_update_id=103,
            prev_final_update_id=100,
            bids=levels[:1],
            asks=asks,
            **common,
        ),
        BestBidOffer(
            instrument=spot,
            bid_price=Decimal("68000.10"),
            bid_size=Decimal("1.5"),
            ask_price=Decimal("68000.20"),
            ask_size=Decimal("0.75"),
            update_id=104,
            **common,
        ),
        FundingRate(instrument=perp, rate=Decimal("0.0001"), funding_time_ns=now, **common),
        MarkPrice(
            instrument=perp, mark_price=Decimal("68001.5"), index_price=Decimal("68000.9"), **common
        ),
        Liquidation(
            instrument=perp,
            side=Side.SELL,
            price=Decimal("67000"),
            size=Decimal("0.01"),
            status="FILLED",
            **common,
        ),
        Candle(
            instrument=spot,
            interval_ns=60_000_000_000,
            open_time_ns=now,
            open=Decimal("1"),
            high=Decimal("2"),
            low=Decimal("0.5"),
            close=Decimal("1.5"),
            volume=Decimal("10"),
            closed=True,
            **common,
        ),
        Gap(
            instrument=spot,
            stream="trade",
            first_missing=2,
            last_missing=5,
            reason="simulated",
            **common,
        ),
        Resync(instrument=spot, stream="book", reason="simulated", new_sequence=200, **common),
        SourceStatus(instrument=spot, stream="trade", state=SourceState.LIVE, **common),
    ]


def run(args: argparse.Namespace) -> int:
    records = sample_records()
    failures = 0
    print(f"mdp {__version__}, wire schema version {SCHEMA_VERSION}")
    for record in records:
        data = wire.encode(record)
        ok = wire.decode(data) == record
        failures += not ok
        topic = wire.topic_for(record.kind, record.instrument)
        print(f"  {'ok ' if ok else 'BAD'} {record.kind.value:<14} {len(data):>4} bytes  {topic}")
    batch_ok = wire.decode_batch(wire.encode_batch(records)) == records
    trades = [r for r in records if isinstance(r, Trade)] * 100
    columns_ok = wire.decode_batch(wire.encode_batch(trades)) == trades
    failures += (not batch_ok) + (not columns_ok)
    print(f"  {'ok ' if batch_ok else 'BAD'} mixed batch of {len(records)}")
    print(f"  {'ok ' if columns_ok else 'BAD'} trade batch of {len(trades)} (columnar)")
    print("selfcheck: " + ("all records round-trip exactly" if not failures else "FAILED"))
    return 1 if failures else 0
