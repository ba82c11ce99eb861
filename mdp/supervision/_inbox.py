"""A worker's end of an input channel, which remembers what the worker has not finished.

The item (or batch) a worker received is *in flight* until the worker asks for the next
one: asking is the acknowledgement, so a worker that sends its result and then receives
again never acknowledges before the result is out. The inbox belongs to the supervisor's
record of the child, not to the running task, so when the task dies the next instance
gets the in-flight items first.

Crashes (exceptions) are counted per item. Items that were in flight during a crash are
*suspects* and are handed out one at a time, so that a poisoned item in a batch of 100
crashes the worker on its own and the 99 others go through; an item that was in flight
through ``max_attempts`` crashes goes to the dead-letter store and the worker moves on.
A kill or a shutdown is not the item's fault and is not counted.

A worker that keeps several batches in flight (the Kafka producer, which has the next
batch on its way while the broker acknowledges the one before) takes with
:meth:`Inbox.receive_more` and acknowledges the oldest items with :meth:`Inbox.done_oldest`;
redelivered items still come only when nothing else is in flight, so a suspect is alone.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import trio

from mdp.supervision._channel import Channel, schedule_point
from mdp.supervision._deadletter import DeadLetterStore

__all__ = ["Inbox"]


class Inbox:
    """Receive from a supervisor-owned channel with redelivery after a restart.

    Built by the supervisor; workers get theirs as ``ctx.inputs[i]``.
    """

    def __init__(
        self, channel: Channel, *, path: str, max_attempts: int, dead_letters: DeadLetterStore
    ) -> None:
        self.channel = channel
        self.path = path
        self.max_attempts = max_attempts
        self._dead_letters = dead_letters
        self._in_flight: list[Any] = []
        self._in_flight_crashes: list[int] | None = None  # None: fresh from the channel
        # Items for the next instance, oldest first, with the crashes each has been through.
        self._redeliver: deque[tuple[Any, int]] = deque()
        self._settled = trio.lowlevel.ParkingLot()
        self.redelivered = 0
        self.dead_lettered = 0

    @property
    def in_flight(self) -> list[Any]:
        return list(self._in_flight)

    @property
    def pending_redelivery(self) -> int:
        return len(self._redeliver)

    def done(self) -> None:
        """Acknowledge what is in flight (receiving again does this implicitly)."""
        if self._in_flight:
            self._in_flight = []
            self._in_flight_crashes = None
            if self._settled:
                self._settled.unpark_all()

    async def receive(self) -> Any:
        """The next item: a redelivered one first, else one from the channel."""
        self.done()
        if self._redeliver:
            return (await self._take_redelivered(1))[0]
        return (await self._take(1))[0]

    async def receive_batch(self, max_items: int) -> list[Any]:
        """Between 1 and ``max_items`` items, redelivered ones first (suspects singly)."""
        self.done()
        if self._redeliver:
            return await self._take_redelivered(max_items)
        return await self._take(max_items)

    async def receive_more(self, max_items: int) -> list[Any]:
        """As :meth:`receive_batch`, but what is in flight stays in flight: acknowledge it,
        oldest first, with :meth:`done_oldest`. Redelivered items wait until nothing else
        is in flight, and nothing joins them while they are."""
        await trio.lowlevel.checkpoint_if_cancelled()
        while self._in_flight and (self._redeliver or self._in_flight_crashes is not None):
            await self._settled.park()
        if self._redeliver:
            return await self._take_redelivered(max_items)
        if not self._in_flight:
            return await self._take(max_items)
        channel = self.channel
        waited = not channel.depth
        if waited:
            await channel._wait_for_items()
        items = channel._take(max_items)
        self._in_flight.extend(items)  # no checkpoint between the take and this
        if not waited:
            await schedule_point()
        return list(items)

    def done_oldest(self, count: int) -> None:
        """Acknowledge the ``count`` oldest items in flight (all of them: :meth:`done`)."""
        if count >= len(self._in_flight):
            self.done()
            return
        if count > 0:
            del self._in_flight[:count]
            if self._in_flight_crashes is not None:
                del self._in_flight_crashes[:count]
            self._settled.unpark_all()

    async def _take(self, max_items: int) -> list[Any]:
        # Taking from the channel and marking in flight happen in one step, with no
        # checkpoint between them: there is never a moment when an item is in neither
        # place (a drain waiting for "empty and nothing in flight" would lose it).
        channel = self.channel
        await trio.lowlevel.checkpoint_if_cancelled()
        if channel.depth:
            items = self._in_flight = channel._take(max_items)
            await schedule_point()
        else:
            await channel._wait_for_items()
            items = self._in_flight = channel._take(max_items)
        return list(items)

    async def _take_redelivered(self, max_items: int) -> list[Any]:
        await trio.lowlevel.checkpoint_if_cancelled()
        redeliver = self._redeliver
        take = 1  # a suspect goes alone; items that only saw kills go as a batch
        if not redeliver[0][1]:
            while take < min(max_items, len(redeliver)) and not redeliver[take][1]:
                take += 1
        pairs = [redeliver.popleft() for _ in range(take)]
        self._in_flight = [item for item, _ in pairs]
        self._in_flight_crashes = [crashes for _, crashes in pairs]
        await schedule_point()
        return list(self._in_flight)

    async def wait_drained(self) -> None:
        """Return once the channel is empty and the worker has finished what it took."""
        while True:
            await self.channel.wait_empty()
            if (not self._in_flight and not self._redeliver) or self.channel.closed:
                return
            await self._settled.park()

    def __aiter__(self) -> Inbox:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except trio.EndOfChannel:
            self.done()
            raise StopAsyncIteration from None

    # -- called by the supervisor when the worker's task ends -----------------------------

    def _crashes(self) -> list[int]:
        return self._in_flight_crashes or [0] * len(self._in_flight)

    def release(self) -> None:
        """The worker was killed or stopped: what it had goes to its next instance."""
        if self._in_flight:
            self._redeliver.extendleft(
                reversed(list(zip(self._in_flight, self._crashes(), strict=True)))
            )
            self.redelivered += len(self._in_flight)
            self._in_flight, self._in_flight_crashes = [], None

    def crashed(self, error: BaseException) -> None:
        """The worker raised: count a crash for each item it had, dead-letter those that
        reached ``max_attempts``, hand the others on as suspects."""
        if not self._in_flight:
            return
        crashes = [c + 1 for c in self._crashes()]
        poisoned = [
            item for item, c in zip(self._in_flight, crashes, strict=True) if c >= self.max_attempts
        ]
        if poisoned:
            self._dead_letters.put(self.path, poisoned, error, max(crashes))
            self.dead_lettered += len(poisoned)
        survivors = [
            (i, c) for i, c in zip(self._in_flight, crashes, strict=True) if c < self.max_attempts
        ]
        self._redeliver.extendleft(reversed(survivors))
        self.redelivered += len(survivors)
        self._in_flight, self._in_flight_crashes = [], None

    def give_back(self) -> None:
        """The worker is removed for good: unfinished items return to the channel's head."""
        self.release()
        if self._redeliver:
            self.channel.putback([item for item, _ in self._redeliver])
            self._redeliver.clear()
