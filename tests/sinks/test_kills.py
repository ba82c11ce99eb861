"""A sink worker killed at random, also while a batch is in its hands: nothing lost, nothing
twice. A kill before the write redelivers the batch to the next instance; a kill during
the write (in its thread, which cannot be interrupted) takes effect once the write is done
and acknowledged — either way each trade is stored once."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import trio

from mdp.model import Kind, Trade
from mdp.supervision import Backoff, ChannelSpec, Intensity, Supervisor, SupervisorSpec, WorkerSpec
from tests.sinks._stores import ClickHouseStore, LakeStore, PostgresStore
from tests.sinks.conftest import trades
from tests.sinks.test_roundtrip import exact_notional

COUNT = 30_000
KILLS = 25


def _tree(component: str, args: dict[str, Any]) -> SupervisorSpec:
    return SupervisorSpec(
        name="s",
        backoff=Backoff(initial=0.0, max=0.01),
        intensity=Intensity(max_restarts=1000, period=1.0),
        channels=(ChannelSpec(name="records", capacity=5_000),),
        children=(WorkerSpec(name="sink", component=component, inputs=("records",), args=args),),
    )


async def _drained(sup: Supervisor) -> None:
    """Until everything fed was taken and no write has finished for 0.5 s (a write here
    takes well under 0.1 s), i.e. the last batch is written."""
    node: Any = sup.find("s/sink")
    (inbox,) = node.inboxes
    last, quiet_since = -1, trio.current_time()
    while trio.current_time() - quiet_since < 0.5:
        await trio.sleep(0.05)
        batches = node.memo["sink"].batches
        busy = sup.channels["records"].depth or inbox.pending_redelivery
        if busy or batches != last:
            last, quiet_since = batches, trio.current_time()


@pytest.mark.parametrize("store_name", ["postgres", "clickhouse", "parquet"])
async def test_a_sink_killed_while_writing_stores_every_trade_once(
    store_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    flush = {"flush_rows": 1000, "flush_interval_s": 0.01, "max_rows": 2000}
    store: Any
    if store_name == "postgres":
        dsn = request.getfixturevalue("pg_dsn")
        store, spec = PostgresStore(dsn), _tree("sink.postgres", {"dsn": dsn, **flush})
    elif store_name == "clickhouse":
        dsn = request.getfixturevalue("ch_dsn")
        store, spec = ClickHouseStore(dsn), _tree("sink.clickhouse", {"dsn": dsn, **flush})
    else:
        root = str(tmp_path / "lake")
        store = LakeStore(tmp_path / "lake")
        spec = _tree("sink.parquet", {"root": root, "fsync": False, **flush})
    rng = random.Random(7)
    sent = trades(1, COUNT + 1)
    sup = Supervisor(spec)
    kills = 0
    async with trio.open_nursery() as nursery:
        nursery.cancel_scope.deadline = trio.current_time() + 60
        await nursery.start(sup.run)
        records = sup.channels["records"]

        async def feed() -> None:
            for start in range(0, COUNT, 500):
                await records.send_batch(sent[start : start + 500])
                await trio.sleep(0.005)

        nursery.start_soon(feed)
        node: Any = sup.find("s/sink")
        (inbox,) = node.inboxes
        mid_write = 0
        while kills < KILLS:
            await trio.sleep(rng.uniform(0.0, 0.03))
            # Every other kill waits for a batch in the worker's hands (a write under way in
            # its thread); the others land wherever they land.
            for _ in range(200 if kills % 2 else 0):
                if inbox.in_flight:
                    break
                await trio.sleep(0.001)
            if node.memo.get("sink") is not None and node.state.value == "running":
                mid_write += bool(inbox.in_flight)
                sup.kill("s/sink")
                kills += 1
        with trio.fail_after(40):
            await _drained(sup)
        nursery.cancel_scope.cancel()
    stored = [t for t in store.read(Kind.TRADE) if isinstance(t, Trade)]
    assert sorted(t.trade_id for t in stored) == list(range(1, COUNT + 1))
    assert exact_notional(stored) == exact_notional(sent)
    if store_name == "postgres":
        assert store.raw_count(Kind.TRADE) == COUNT  # not one stored copy too many
    assert mid_write > 0  # kills did land while a batch was in the worker's hands
