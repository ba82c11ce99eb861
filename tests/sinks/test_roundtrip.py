"""Every kind round-trips exactly through every store, and a batch written twice is stored
once: exact decimals (sums of price × size to the last digit), nanosecond times, counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal, localcontext
from pathlib import Path

import pytest

from mdp.model import Kind, Record, Trade
from mdp.sinks import TABLES, WriteResult
from tests.sinks._stores import ClickHouseStore, LakeStore, PostgresStore
from tests.sinks.conftest import BIG, NOW, TINY, records_of_every_kind, stripped, trades

Store = PostgresStore | ClickHouseStore | LakeStore


@pytest.fixture(params=["postgres", "clickhouse", "parquet"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "postgres":
        return PostgresStore(request.getfixturevalue("pg_dsn"))
    if request.param == "clickhouse":
        return ClickHouseStore(request.getfixturevalue("ch_dsn"))
    return LakeStore(tmp_path / "lake")


def exact_notional(records: Sequence[Record]) -> Decimal:
    """Σ price × size with no rounding (the default context keeps 28 digits)."""
    with localcontext(prec=200):
        return sum((t.price * t.size for t in records if isinstance(t, Trade)), Decimal(0))


def _by_kind(records: list[Record]) -> dict[Kind, Counter[Record]]:
    out: dict[Kind, Counter[Record]] = {}
    for r in records:
        out.setdefault(r.kind, Counter())[stripped(r)] += 1
    return out


async def test_every_kind_round_trips_exactly(store: Store) -> None:
    records = records_of_every_kind(12)
    await store.sink.open()
    try:
        result = await store.sink.write(records)
    finally:
        store.sink.close()
    assert result == WriteResult(len(records))
    expected = _by_kind(records)
    assert set(expected) == set(TABLES)
    for kind, want in expected.items():
        got = Counter(store.read(kind))
        assert got == want, kind
    # The awkward values are there, digit for digit, and so are the nanoseconds.
    trades_back = [r for r in store.read(Kind.TRADE) if isinstance(r, Trade)]
    assert {t.price for t in trades_back} >= {BIG}
    assert {t.size for t in trades_back} >= {TINY}
    assert min(t.receive_time_ns for t in trades_back) == NOW + 1_001
    assert {t.receive_time_ns % 1000 for t in trades_back} != {0}


async def test_the_same_batch_twice_is_stored_once(store: Store) -> None:
    batch = trades(101, 2_101) + records_of_every_kind(4)  # ids apart from the others
    await store.sink.open()
    try:
        first = await store.sink.write(batch)
        second = await store.sink.write(batch)  # a redelivery after a lost acknowledgement
        third = await store.sink.write(batch[:700])
    finally:
        store.sink.close()
    assert first == second == WriteResult(len(batch))
    assert third.written == 700
    expected = _by_kind(batch)
    for kind, want in expected.items():
        assert Counter(store.read(kind)) == want, kind
    got = store.read(Kind.TRADE)
    want_sum = exact_notional(batch)
    assert exact_notional(got) == want_sum
    assert len({t.trade_id for t in got if isinstance(t, Trade)}) == len(got)
    if isinstance(store, PostgresStore):
        # No second copy at all, and the sum exact in the store's own arithmetic too.
        assert store.raw_count(Kind.TRADE) == len(got)
        (row,) = store.query("SELECT sum(price * size) AS s FROM trades")
        assert row["s"] == want_sum
        # time is the event time truncated to µs, exactly (extract gives numeric).
        (row,) = store.query(
            "SELECT count(*) AS n FROM trades "
            "WHERE (extract(epoch FROM time) * 1000000)::bigint <> time_ns / 1000"
        )
        assert row["n"] == 0
    if isinstance(store, ClickHouseStore):
        assert store.raw_count(Kind.TRADE) >= len(got)  # copies until a merge (may be done)
        store.query("OPTIMIZE TABLE trades FINAL")
        assert store.raw_count(Kind.TRADE) == len(got)
    if isinstance(store, LakeStore):
        assert store.raw_count(Kind.TRADE) > len(got)  # copies in the files until compaction
        assert store.lake.compact_all(min_files=2) > 0
        assert store.raw_count(Kind.TRADE) == len(got)
        assert Counter(store.read(Kind.TRADE)) == expected[Kind.TRADE]
