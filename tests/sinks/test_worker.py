"""The sink workers in a supervision tree: rejected rows go to the dead letters with the
reason while their neighbours are written; flush by size or by time."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import psycopg
import pytest
import trio

import mdp.sinks  # noqa: F401  (registers the sink.* components)
from mdp.model import Kind, Liquidation, Record, Side
from mdp.sinks import SinkStats
from mdp.supervision import ChannelSpec, MemoryDeadLetters, Supervisor, SupervisorSpec, WorkerSpec
from tests.sinks._stores import ClickHouseStore, LakeStore, PostgresStore
from tests.sinks.conftest import NOW, SPOT, stripped, trades


def tree(component: str, args: dict[str, Any]) -> SupervisorSpec:
    return SupervisorSpec(
        name="s",
        channels=(ChannelSpec(name="records", capacity=10_000),),
        children=(WorkerSpec(name="sink", component=component, inputs=("records",), args=args),),
    )


async def wait_written(sup: Supervisor, rows: int) -> SinkStats:
    """The worker's figures once it has written (or rejected) ``rows``; callers bound it."""
    stats: SinkStats | None = None
    while stats is None or stats.written + stats.rejected < rows:
        stats = sup.find("s/sink").memo.get("sink")  # type: ignore[union-attr]
        await trio.sleep(0.01)
    return stats


def _liquidation(status: str) -> Liquidation:
    return Liquidation(
        instrument=SPOT,
        receive_time_ns=NOW,
        side=Side.SELL,
        price=Decimal("68000.1"),
        size=Decimal("2"),
        status=status,
    )


@pytest.mark.parametrize("store_name", ["postgres", "clickhouse", "parquet"])
async def test_a_rejected_row_is_dead_lettered_with_its_reason_and_its_neighbours_written(
    store_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    good = trades(1, 301)
    too_big = attrs.evolve(good[0], trade_id=2**63, sequence=1)  # past int64: every store
    if store_name == "postgres":
        dsn = request.getfixturevalue("pg_dsn")
        store: Any = PostgresStore(dsn)
        spec = tree("sink.postgres", {"dsn": dsn, "flush_interval_s": 0.05})
        # PostgreSQL text cannot hold NUL: the server refuses the row inside the COPY.
        refused: Record = attrs.evolve(_liquidation("bad\x00status"), receive_time_ns=NOW + 5)
        reason = "PostgreSQL: 22021"
    else:
        refused = attrs.evolve(good[1], trade_id=10**6, price=Decimal("1E-19"))  # 19 places
        reason = "price: 1E-19 does not fit Decimal(38, 18) exactly"
        if store_name == "clickhouse":
            dsn = request.getfixturevalue("ch_dsn")
            store = ClickHouseStore(dsn)
            spec = tree("sink.clickhouse", {"dsn": dsn, "flush_interval_s": 0.05})
        else:
            store = LakeStore(tmp_path / "lake")
            spec = tree("sink.parquet", {"root": str(tmp_path / "lake"), "flush_interval_s": 0.05})
    neighbours = [_liquidation("FILLED"), _liquidation("NEW")]
    neighbours[1] = attrs.evolve(neighbours[1], receive_time_ns=NOW + 1)
    batch = [*good[:150], refused, too_big, neighbours[0], *good[150:], neighbours[1]]
    dead = MemoryDeadLetters()
    sup = Supervisor(spec, dead_letters=dead)
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await sup.channels["records"].send_batch(batch)
        with trio.fail_after(20):
            stats = await wait_written(sup, len(batch))
        nursery.cancel_scope.cancel()
    assert stats.rejected == 2
    assert stats.written == len(batch) - 2
    errors = sorted(entry["error"] for entry in dead.records)
    assert len(errors) == 2
    assert any(reason in e for e in errors), errors
    assert any(
        "trade_id: 9223372036854775808 does not fit a signed 64-bit integer" in e for e in errors
    ), errors
    assert all(e.startswith("RowRejected: ") for e in errors)
    assert all(entry["path"] == "s/sink" for entry in dead.records)
    stored_trades = store.read(Kind.TRADE)
    assert sorted(t.trade_id for t in stored_trades) == list(range(1, 301))
    assert {stripped(t) for t in good} == set(stored_trades)
    assert len(store.read(Kind.LIQUIDATION)) == 2


async def test_a_write_waits_for_flush_rows_or_flush_interval(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    spec = tree("sink.parquet", {"root": str(root), "flush_rows": 1000, "flush_interval_s": 0.5})
    sup = Supervisor(spec)
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        node: Any = sup.find("s/sink")
        records = sup.channels["records"]
        await records.send_batch(trades(1, 401))
        await trio.sleep(0.2)
        assert "sink" not in node.memo or node.memo["sink"].batches == 0  # not yet: size
        await records.send_batch(trades(401, 1201))
        with trio.fail_after(5):
            stats = await wait_written(sup, 1200)
        assert stats.batches == 1  # one write of both sends
        start = trio.current_time()
        await records.send_batch(trades(1201, 1211))
        with trio.fail_after(5):
            await wait_written(sup, 1210)
        assert trio.current_time() - start >= 0.45  # by time
        # Acknowledged as soon as written, not only when more records come (the consumer
        # commits on the acknowledgement).
        assert node.inboxes[0].in_flight == []
        nursery.cancel_scope.cancel()
    assert LakeStore(root).raw_count(Kind.TRADE) == 1210


async def test_a_store_failing_for_a_reason_not_the_rows_is_waited_out(pg_dsn: str) -> None:
    """A table dropped under a running sink: the worker keeps the batch and retries with the
    reason in its figures (no crash, so no good row is dead-lettered as poison)."""
    dead = MemoryDeadLetters()
    spec = tree("sink.postgres", {"dsn": pg_dsn, "flush_interval_s": 0.01, "retry_max_s": 0.05})
    sup = Supervisor(spec, dead_letters=dead)
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await sup.channels["records"].send_batch(trades(1, 11))
        with trio.fail_after(10):
            await wait_written(sup, 10)
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute("DROP TABLE trades")
        await sup.channels["records"].send_batch(trades(11, 21))
        node: Any = sup.find("s/sink")
        await trio.sleep(0.5)
        stats: SinkStats = node.memo["sink"]
        assert stats.retries > 0
        assert "check the schema" in stats.last_error
        assert "trades" in stats.last_error
        assert node.restarts == 0
        nursery.cancel_scope.cancel()
    assert dead.count == 0
