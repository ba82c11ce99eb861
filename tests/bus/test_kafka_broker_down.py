"""The broker stopped for 10 s in the middle of producing: the producer waits (its local
queue is small, so produce() finds it full and backs off: backpressure, never a drop),
reports the trouble as SourceStatus events, and resumes when the broker is back. Read back
afterwards with a fresh group, every topic holds every trade exactly once, in order.

This stops the shared test broker (``scripts/services stop kafka``) and always starts it
again, in a ``finally``.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import trio

from mdp.bus import ConsumerConfig, ProducerConfig, open_kafka_consumer, open_kafka_producer
from mdp.model import SourceState, SourceStatus
from tests.bus.helpers import (
    KAFKA,
    Arrivals,
    drop_topics,
    make_topics,
    per_symbol_count,
    trade_topics,
    trades,
    unique_instruments,
    wait_until,
)

REPO = Path(__file__).resolve().parents[2]
TOTAL = 60_000
BATCH = 600  # 60 messages of 10: more than the local queue holds
OUTAGE = 10.0


async def _services(action: str) -> None:
    await trio.run_process(
        [str(REPO / "scripts" / "services"), action, "kafka"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
async def test_broker_down_for_10s_producer_backpressures_resumes_and_loses_nothing() -> None:
    instruments = unique_instruments(3)
    topics = trade_topics(instruments)
    await trio.to_thread.run_sync(make_topics, topics)
    config = ProducerConfig(records_per_message=10, queue_max_messages=50, linger_ms=2)
    statuses: list[SourceStatus] = []
    longest_send = 0.0
    sent = 0
    outage: tuple[float, float] | None = None
    try:
        async with open_kafka_producer(config, KAFKA, on_status=statuses.append) as producer:
            async with trio.open_nursery() as nursery:

                async def produce() -> None:
                    nonlocal longest_send, sent
                    for first in range(0, TOTAL, BATCH):
                        start = time.monotonic()
                        await producer.send(trades(instruments, first, first + BATCH))
                        longest_send = max(longest_send, time.monotonic() - start)
                        sent = first + BATCH
                        await trio.sleep(0.05)

                nursery.start_soon(produce)
                await wait_until(lambda: sent >= TOTAL // 6, 0.01)
                try:
                    await _services("stop")
                    down = time.monotonic()
                    sent_at_stop = sent
                    await trio.sleep(OUTAGE)
                    assert sent - sent_at_stop <= BATCH, "nothing is acknowledged while down"
                finally:
                    await _services("start")
                outage = (down, time.monotonic())
                with trio.fail_after(120):
                    await wait_until(lambda: sent >= TOTAL, 0.1)
            stats = producer.stats
        print(f"outage {outage[1] - outage[0]:.1f}s, longest send {longest_send:.1f}s, {stats}")
        assert stats.records == TOTAL
        assert stats.queue_full > 0, "the full local queue made produce() wait"
        assert longest_send >= OUTAGE, "send() waited for the broker instead of dropping"
        states = [s.state for s in statuses]
        assert SourceState.DEGRADED in states
        assert states[-1] is SourceState.LIVE, "back to live once delivering again"

        arrived = Arrivals()
        with trio.fail_after(60):
            async with open_kafka_consumer(
                ConsumerConfig(), KAFKA, topics, group=f"readback-{instruments[0].exchange}"
            ) as consumer:
                while arrived.total < TOTAL:
                    fetched = await consumer.receive()
                    arrived.add(fetched.records)
                    consumer.ack(fetched)
    finally:
        with trio.move_on_after(60, shield=True):
            await _services("start")  # idempotent: makes sure the broker is up for others
            await trio.to_thread.run_sync(drop_topics, topics)

    for index, instrument in enumerate(instruments):
        expected = list(range(per_symbol_count(TOTAL, 3, index)))
        assert arrived.ids[instrument.symbol] == expected, "every trade once, in order"
