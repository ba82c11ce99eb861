"""A rebalance while a member holds a batch. The member's thread sits in ``poll`` while
the caller still has a batch in its hands, so librdkafka runs the revoke callback then;
the revoke must wait until the caller is between batches (back in ``receive``), then
commit exactly what was acknowledged: the partition's next owner starts right after the
last record the first member was handed — nothing repeated, nothing skipped. A member
that leaves while its revoke waits closes at once, its acknowledgements committed."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import trio

from mdp.bus import (
    ConsumerConfig,
    Fetched,
    KafkaConsumer,
    ProducerConfig,
    open_kafka_consumer,
    open_kafka_producer,
)
from mdp.model import Instrument
from tests.bus.helpers import (
    KAFKA,
    Arrivals,
    drop_topics,
    make_topics,
    trade_topics,
    trades,
    unique_instruments,
    wait_until,
)

BEFORE, TOTAL = 400, 3_000  # trades over 2 topics before the second member joins, in all
HOLD = 2.0  # seconds the first member keeps its batch while the second one waits to join
CONFIG = ConsumerConfig(max_messages=1)


async def _produce(instruments: Sequence[Instrument], start: int, stop: int) -> None:
    async with open_kafka_producer(ProducerConfig(records_per_message=10), KAFKA) as producer:
        await producer.send(trades(instruments, start, stop))


async def _read(consumer: KafkaConsumer, arrived: Arrivals) -> None:
    while True:
        fetched = await consumer.receive()
        arrived.add(fetched.records)
        consumer.ack(fetched)


async def _catch_up_and_hold(consumer: KafkaConsumer, arrived: Arrivals) -> Fetched:
    """Read everything produced so far and return the last batch unacknowledged: the
    consumer's thread is then in ``poll`` with nothing to fetch."""
    while True:
        fetched = await consumer.receive()
        if arrived.total + len(fetched.records) >= BEFORE:
            return fetched
        arrived.add(fetched.records)
        consumer.ack(fetched)


def _check_handover(first: Arrivals, second: Arrivals) -> None:
    """Every id once per symbol over both members, in order within each member, and no
    overlap: the second member started right after the first one's last record."""
    assert first.total + second.total == TOTAL
    for symbol in set(first.ids) | set(second.ids):
        a, b = first.ids.get(symbol, []), second.ids.get(symbol, [])
        assert a == sorted(a), f"{symbol}: in order"
        assert b == sorted(b), f"{symbol}: in order"
        assert sorted(a + b) == list(range(TOTAL // 2)), f"{symbol}: every id exactly once"
        if a and b:
            assert b[0] == a[-1] + 1, f"{symbol}: the next owner starts right after"


async def _join(
    group: str, topics: list[str], arrived: Arrivals, *, task_status: trio.TaskStatus[None]
) -> None:
    async with open_kafka_consumer(CONFIG, KAFKA, topics, group=group) as consumer:
        task_status.started()
        await _read(consumer, arrived)


@pytest.mark.slow
@pytest.mark.parametrize("then", ["receive", "leave"])
async def test_revoke_waits_for_the_batch_in_hand_then_commits_exactly_the_acks(
    then: str,
) -> None:
    instruments = unique_instruments(2)
    topics = trade_topics(instruments)
    await trio.to_thread.run_sync(make_topics, topics)
    group = f"rebalance-{instruments[0].exchange}"
    first, second = Arrivals(), Arrivals()
    try:
        await _produce(instruments, 0, BEFORE)
        with trio.fail_after(60):
            async with (
                trio.open_nursery() as nursery,
                open_kafka_consumer(CONFIG, KAFKA, topics, group=group) as one,
            ):
                held = await _catch_up_and_hold(one, first)
                assert len(one.assignment) == 2
                assert one.stats.rebalances == 1
                await nursery.start(_join, group, topics, second)
                # librdkafka called the revoke callback (it counts), which waits for us.
                await wait_until(lambda: one.stats.rebalances == 2)
                await trio.sleep(HOLD)
                assert len(one.assignment) == 2, "still ours while the batch is held"
                assert not second.total
                first.add(held.records)
                one.ack(held)
                if then == "leave":
                    with trio.fail_after(5):  # the waiting revoke does not hold it up
                        await one.aclose()
                else:
                    nursery.start_soon(_read, one, first)
                    await wait_until(lambda: len(one.assignment) == 1)
                await _produce(instruments, BEFORE, TOTAL)
                await wait_until(lambda: first.total + second.total >= TOTAL)
                await trio.sleep(0.5)  # anything repeated would show up by now
                nursery.cancel_scope.cancel()
    finally:
        await trio.to_thread.run_sync(drop_topics, topics)
    assert second.total, "the second member took over"
    _check_handover(first, second)
