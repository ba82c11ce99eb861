"""A producer whose broker cannot be reached: ``send`` waits (a full local queue is
backpressure, not a drop, and not a blocked Trio loop), nothing counts as delivered, and
the shutdown flush is bounded by ``flush_timeout``. No broker needed: port 1 refuses."""

from __future__ import annotations

import time

import trio

from mdp.bus import ProducerConfig, open_kafka_producer
from tests.bus.helpers import trades, unique_instruments

NOWHERE = "127.0.0.1:1"


async def test_unreachable_broker_backpressures_without_blocking_and_shutdown_is_bounded() -> None:
    config = ProducerConfig(records_per_message=10, queue_max_messages=20, flush_timeout=1.0)
    records = trades(unique_instruments(1), 0, 1000)  # 100 messages: 5 times the queue
    lateness: list[float] = []
    finished = False

    async def ticker() -> None:
        while True:
            start = time.perf_counter()
            await trio.sleep(0.005)
            lateness.append(time.perf_counter() - start - 0.005)

    start = time.perf_counter()
    async with open_kafka_producer(config, NOWHERE) as producer, trio.open_nursery() as nursery:
        nursery.start_soon(ticker)

        async def send() -> None:
            nonlocal finished
            await producer.send(records)
            finished = True

        nursery.start_soon(send)
        await trio.sleep(2.0)
        assert not finished, "nothing is done without a delivery report"
        assert producer.stats.records == 0
        assert producer.stats.queue_full > 0, "the full queue made send wait"
        # librdkafka's length counts its own pending requests too (a few), never the 100
        # messages the caller has: the queue holds what it may and send waits for room.
        assert 20 <= len(producer) <= 25, "the local queue holds what it may, no more"
        nursery.cancel_scope.cancel()
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0 + config.flush_timeout + 1.5, "the flush on the way out is bounded"
    assert max(lateness) < 0.1, "librdkafka never held the Trio loop"
    assert producer.stats.broker_errors > 0
