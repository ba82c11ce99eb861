"""``publish_pipelined``: up to ``in_flight`` publications await the broker at once, each
is acknowledged only once it and every one before it are delivered, and the batches grow
when every slot is taken. The producer here is a scripted stand-in for the bus interface
(the broker's side is tested against Kafka in test_producer_kills.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import trio
import trio.testing

from mdp.bus._pipeline import publish_pipelined
from mdp.bus._stats import ProducerStats


class _Delivery:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.event = trio.Event()

    @property
    def done(self) -> bool:
        return self.event.is_set()

    async def wait(self) -> None:
        await self.event.wait()


class _Producer:
    """Deliveries finish after the delays given, in whatever order that makes."""

    def __init__(self, delays: list[float], nursery: trio.Nursery) -> None:
        self.stats = ProducerStats()
        self.delays = delays
        self.nursery = nursery
        self.published: list[list[Any]] = []
        self.outstanding = 0
        self.most_outstanding = 0

    async def send(self, records: Sequence[Any]) -> None:
        await (await self.publish(records)).wait()

    async def publish(self, records: Sequence[Any]) -> _Delivery:
        await trio.lowlevel.checkpoint()
        self.published.append(list(records))
        delivery = _Delivery(self.delays[len(self.published) - 1])
        self.outstanding += 1
        self.most_outstanding = max(self.most_outstanding, self.outstanding)

        async def deliver() -> None:
            await trio.sleep(delivery.delay)
            self.outstanding -= 1
            delivery.event.set()

        self.nursery.start_soon(deliver)
        return delivery


async def test_acknowledgements_come_in_order_with_at_most_in_flight_outstanding(
    autojump_clock: trio.testing.MockClock,
) -> None:
    batches = [[1], [2, 3], [4], [5, 6, 7], [8]]
    acked: list[tuple[float, int]] = []
    queue = list(batches)

    async def take() -> list[int]:
        if not queue:
            await trio.sleep_forever()
        return queue.pop(0)

    async with trio.open_nursery() as nursery:
        # The second batch is the slowest: the third and fourth, delivered before it,
        # must not be acknowledged before it.
        producer = _Producer([1.0, 5.0, 1.0, 1.0, 1.0], nursery)
        nursery.start_soon(
            lambda: publish_pipelined(
                producer,  # type: ignore[arg-type]
                take,
                lambda n: acked.append((trio.current_time(), n)),
                in_flight=3,
            )
        )
        await trio.sleep(20)
        nursery.cancel_scope.cancel()
    assert [n for _, n in acked] == [1, 2, 1, 3, 1]
    times = [t for t, _ in acked]
    assert times == sorted(times)
    assert times[1] == times[2] == times[3] == pytest.approx(5.0)  # held back by the second
    assert producer.most_outstanding == 3
    assert producer.published[3] == [5, 6, 7]
    # Slots count acknowledgements, not deliveries: the fourth batch went out at 1 s
    # (the first one's acknowledgement), the fifth only at 5 s, with the second's.
    assert producer.published == batches


async def test_in_flight_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await publish_pipelined(None, None, None, in_flight=0)  # type: ignore[arg-type]
