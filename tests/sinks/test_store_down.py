"""PostgreSQL stopped in the middle of a stream of writes: the sink worker backpressures
(the channel fills, senders wait), retries the same batch with backoff, and once the server
is back everything is stored exactly once. Stops the real server (``scripts/services``) and
always starts it again."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from mdp.model import Kind, Trade
from mdp.supervision import Supervisor
from tests.sinks._stores import PostgresStore
from tests.sinks.conftest import trades
from tests.sinks.test_roundtrip import exact_notional
from tests.sinks.test_worker import tree, wait_written

REPO = Path(__file__).resolve().parents[2]
SERVICES = str(REPO / "scripts" / "services")
COUNT = 60_000  # fed over ~6 s: longer than a stop takes, so the outage is mid-stream
BATCH = 500


async def _services(*args: str) -> None:
    await trio.run_process([SERVICES, *args], capture_stdout=True, capture_stderr=True)


@pytest.mark.slow
async def test_postgres_stopped_mid_stream_loses_and_duplicates_nothing(pg_dsn: str) -> None:
    store = PostgresStore(pg_dsn)
    spec = tree(
        "sink.postgres",
        {
            "dsn": pg_dsn,
            "flush_rows": 2000,
            "flush_interval_s": 0.05,
            "retry_initial_s": 0.05,
            "retry_max_s": 0.5,
        },
    )
    sent = trades(1, COUNT + 1)
    sup = Supervisor(spec)
    async with trio.open_nursery() as nursery:
        nursery.cancel_scope.deadline = trio.current_time() + 80  # never hang the suite
        await nursery.start(sup.run)
        records = sup.channels["records"]
        node = sup.find("s/sink")

        async def feed() -> None:
            for start in range(0, COUNT, BATCH):
                await records.send_batch(sent[start : start + BATCH])
                await trio.sleep(0.04)

        nursery.start_soon(feed)
        with trio.fail_after(20):
            await wait_written(sup, 2_000)
        try:
            await _services("stop", "postgres")
            written_while_down = node.memo["sink"].written  # type: ignore[union-attr]
            await trio.sleep(1.5)
            # Nothing was written, the channel filled up and the feeder is blocked.
            assert node.memo["sink"].written == written_while_down  # type: ignore[union-attr]
            assert records.depth == records.capacity
            assert node.memo["sink"].retries > 0  # type: ignore[union-attr]
        finally:
            with trio.move_on_after(60, shield=True):
                await _services("start", "postgres")
        with trio.fail_after(40):
            stats = await wait_written(sup, COUNT)
        nursery.cancel_scope.cancel()
    assert "PostgreSQL" in stats.last_error
    stored = [t for t in store.read(Kind.TRADE) if isinstance(t, Trade)]
    assert len(stored) == COUNT
    assert store.raw_count(Kind.TRADE) == COUNT
    assert sorted(t.trade_id for t in stored) == list(range(1, COUNT + 1))
    assert exact_notional(stored) == exact_notional(sent)
