"""The in-process bus: the Kafka bus's interface and guarantees without a broker.

Deterministic (MockClock where time matters): a group of two gets every record once and
in order per topic; a member that leaves without acknowledging hands its tail to the next
owner; a producer waits while the slowest group is ``capacity`` behind (never drops); a
topic nobody reads keeps only its newest ``capacity`` records.
"""

from __future__ import annotations

import trio
import trio.testing

from mdp.bus import MemoryBus
from tests.bus.helpers import Arrivals, trades, unique_instruments


async def test_group_of_two_every_record_once_in_order() -> None:
    bus = MemoryBus(capacity=5_000, max_records=700)
    instruments = unique_instruments(3)
    a = bus.consumer(["^trade\\..*"], group="g")
    b = bus.consumer(["^trade\\..*"], group="g")
    arrived = [Arrivals(), Arrivals()]
    total = 30_000

    async def read(member: object, into: Arrivals) -> None:
        assert isinstance(member, type(a))
        while True:
            fetched = await member.receive()
            into.add(fetched.records)
            member.ack(fetched)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(read, a, arrived[0])
        nursery.start_soon(read, b, arrived[1])
        producer = bus.producer()
        for first in range(0, total, 1000):
            await producer.send(trades(instruments, first, first + 1000))
        while sum(x.total for x in arrived) < total:
            await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    a.close()
    b.close()
    assert all(x.total for x in arrived), "both members got topics"
    merged: dict[str, list[int]] = {}
    for x in arrived:
        for symbol, ids in x.ids.items():
            assert symbol not in merged, "a topic is read by one member"
            merged[symbol] = ids
    assert merged == {i.symbol: list(range(10_000)) for i in instruments}


async def test_member_leaving_without_ack_hands_its_tail_to_the_next_owner() -> None:
    bus = MemoryBus(max_records=100)
    instruments = unique_instruments(1)
    await bus.producer().send(trades(instruments, 0, 250))
    first = bus.consumer(["^trade\\..*"], group="g")
    fetched = await first.receive()
    first.ack(fetched)  # 0..99 done
    unacked = await first.receive()  # 100..199 in hand, never acknowledged
    assert [r.trade_id for r in unacked.records][:1] == [100]  # type: ignore[union-attr]
    first.close()
    second = bus.consumer(["^trade\\..*"], group="g")
    again = await second.receive()
    assert [r.trade_id for r in again.records] == list(range(100, 200))  # type: ignore[union-attr]
    first.ack(unacked)  # too late: ignored, the topic is not the leaver's any more
    assert bus.groups["g"].committed == {next(iter(bus.logs)): 100}
    second.close()


async def test_producer_waits_for_the_slowest_group_and_never_drops() -> None:
    bus = MemoryBus(capacity=1_000, max_records=400)
    instruments = unique_instruments(1)
    member = bus.consumer(["^trade\\..*"], group="slow")
    producer = bus.producer()
    sent = 0

    async def produce() -> None:
        nonlocal sent
        for first in range(0, 3_000, 500):
            await producer.send(trades(instruments, first, first + 500))
            sent = first + 500

    async with trio.open_nursery() as nursery:
        nursery.start_soon(produce)
        await trio.testing.wait_all_tasks_blocked()
        assert sent == 1_000, "blocked once the group is capacity behind"
        got: list[int] = []
        while len(got) < 3_000:
            fetched = await member.receive()
            got.extend(r.trade_id for r in fetched.records)  # type: ignore[union-attr]
            member.ack(fetched)
            await trio.testing.wait_all_tasks_blocked()
    member.close()
    assert got == list(range(3_000))
    assert producer.stats.queue_full > 0
    assert sum(log.dropped for log in bus.logs.values()) == 0


async def test_topic_nobody_reads_keeps_its_newest_records() -> None:
    bus = MemoryBus(capacity=1_000)
    instruments = unique_instruments(1)
    producer = bus.producer()
    for first in range(0, 5_000, 500):
        await producer.send(trades(instruments, first, first + 500))  # never waits
    (log,) = bus.logs.values()
    assert (log.base, log.end, log.dropped) == (4_000, 5_000, 4_000)
