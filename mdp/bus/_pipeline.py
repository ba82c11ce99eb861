"""Publishing with several batches in flight, acknowledged in order.

A producer that waits for the broker's acknowledgement of one batch before it takes the
next makes every record that arrives meanwhile wait for that round trip. Here the next
batch is handed to librdkafka as soon as it is there, while up to ``in_flight`` batches
await their acknowledgements; those come back in the order the batches went out, so whoever must not
forget a record (the Inbox) hears of it only once the broker has it and everything before.
Under load the batches grow instead: with every slot taken, records pile up in the inbox
and the next take gets them all.

On a loopback broker the wait is short and what it saves is outweighed by the smaller
batches (more Kafka messages, reports and fetches per record): at 10k records/s
``in_flight = 4`` gave a higher p50 than 1 and no better p99 (docs/benchmarks.md), so
``bus.producer`` defaults to 1. The pipeline pays off when the round trip is long.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import NoReturn

import trio

from mdp.bus._interface import BusDelivery, BusProducer
from mdp.model import Record

__all__ = ["publish_pipelined"]


async def publish_pipelined(
    producer: BusProducer,
    take: Callable[[], Awaitable[Sequence[Record]]],
    acknowledge: Callable[[int], None],
    *,
    in_flight: int,
) -> NoReturn:
    """Publish whatever ``take`` returns, for ever; ``acknowledge(n)`` once the broker has
    the ``n`` records of a batch and of every batch taken before it."""
    if in_flight < 1:
        raise ValueError(f"in_flight must be at least 1, got {in_flight}")
    slots = trio.Semaphore(in_flight)
    sent, waiting = trio.open_memory_channel[tuple[int, BusDelivery]](in_flight)

    async def acknowledge_in_order() -> None:
        async for count, delivery in waiting:
            await delivery.wait()
            acknowledge(count)
            slots.release()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(acknowledge_in_order)
        while True:
            await slots.acquire()
            records = await take()
            delivery = await producer.publish(records)
            sent.send_nowait((len(records), delivery))  # room: a slot is held for it
    raise AssertionError("unreachable")  # the nursery only ends by an exception
