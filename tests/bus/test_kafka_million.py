"""A million trades over three symbols through the real broker, read by a group of two:
every trade exactly once, in order per symbol, with the work split over both members."""

from __future__ import annotations

import time

import pytest
import trio

from mdp.bus import ConsumerConfig, ProducerConfig, open_kafka_consumer, open_kafka_producer
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

TOTAL = 1_000_000
BATCH = 30_000


@pytest.mark.slow
async def test_million_trades_group_of_two_every_trade_once_in_order() -> None:
    instruments = unique_instruments(3)
    topics = trade_topics(instruments)
    await trio.to_thread.run_sync(make_topics, topics)
    group = f"million-{instruments[0].exchange}"
    arrivals = [Arrivals(), Arrivals()]
    done = trio.Event()
    config = ConsumerConfig(max_messages=100)
    try:
        with trio.fail_after(120):
            async with trio.open_nursery() as nursery:
                members = []
                for arrived in arrivals:
                    consumer = await nursery.start(_member, config, topics, group, arrived, done)
                    members.append(consumer)
                # Both members in the group before any data: the work is split from the start.
                await wait_until(
                    lambda: (
                        sum(len(m.assignment) for m in members) == 3
                        and all(m.assignment for m in members)
                    )
                )
                start = time.perf_counter()
                async with open_kafka_producer(ProducerConfig(), KAFKA) as producer:
                    for first in range(0, TOTAL, BATCH):
                        await producer.send(trades(instruments, first, min(first + BATCH, TOTAL)))
                produced = time.perf_counter() - start
                await wait_until(lambda: sum(a.total for a in arrivals) >= TOTAL)
                consumed = time.perf_counter() - start
                done.set()
                print(f"produced {TOTAL} in {produced:.1f}s, all consumed after {consumed:.1f}s")
    finally:
        await trio.to_thread.run_sync(drop_topics, topics)

    assert all(a.total > 0 for a in arrivals), "both members of the group did work"
    for index, instrument in enumerate(instruments):
        symbol = instrument.symbol
        readers = [a for a in arrivals if symbol in a.ids]
        assert len(readers) == 1, f"{symbol} was read by one member (no rebalance happened)"
        expected = list(range(per_symbol_count(TOTAL, 3, index)))
        assert readers[0].ids[symbol] == expected, f"{symbol}: every trade once, in order"


async def _member(
    config: ConsumerConfig,
    topics: list[str],
    group: str,
    arrived: Arrivals,
    done: trio.Event,
    *,
    task_status: trio.TaskStatus[object],
) -> None:
    async with open_kafka_consumer(config, KAFKA, topics, group=group) as consumer:
        task_status.started(consumer)
        async with trio.open_nursery() as nursery:

            async def read() -> None:
                while True:
                    fetched = await consumer.receive()
                    arrived.add(fetched.records)
                    consumer.ack(fetched)

            nursery.start_soon(read)
            await done.wait()
            nursery.cancel_scope.cancel()
