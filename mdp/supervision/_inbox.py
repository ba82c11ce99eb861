"""A worker's end of an input channel, which remembers what the worker has not finished.

The item (or batch) a worker received is *in flight* until the worker asks for the next
one: asking is the acknowledgement, so a worker that sends its result and then receives
again never acknowledges before the result is out. The inbox belongs to the supervisor's
record of the child, not to the running task, so when the task dies the next instance
gets the in-flight items first. Crashes (exceptions) with the same items in flight are
counted; at ``max_attempts`` the items go to the dead-letter store and the worker moves on.
A kill or a shutdown is not the item's fault and is not counted.
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
        self._redeliver: deque[Any] = deque()
        self.attempts = 0
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
            self.attempts = 0
            if self._settled:
                self._settled.unpark_all()

    async def receive(self) -> Any:
        """The next item: a redelivered one first, else one from the channel."""
        self.done()
        if self._redeliver:
            await trio.lowlevel.checkpoint_if_cancelled()
            item = self._redeliver.popleft()
            self._in_flight = [item]
            await schedule_point()
            return item
        return (await self._take(1))[0]

    async def receive_batch(self, max_items: int) -> list[Any]:
        """Between 1 and ``max_items`` items, redelivered ones first."""
        self.done()
        if self._redeliver:
            await trio.lowlevel.checkpoint_if_cancelled()
            take = min(max_items, len(self._redeliver))
            items = [self._redeliver.popleft() for _ in range(take)]
            self._in_flight = items
            await schedule_point()
            return items
        return await self._take(max_items)

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

    def release(self) -> None:
        """The worker was killed or stopped: what it had goes to its next instance."""
        if self._in_flight:
            self._redeliver.extendleft(reversed(self._in_flight))
            self.redelivered += len(self._in_flight)
            self._in_flight = []

    def crashed(self, error: BaseException) -> None:
        """The worker raised: count an attempt, and dead-letter past ``max_attempts``."""
        if not self._in_flight:
            return
        self.attempts += 1
        if self.attempts >= self.max_attempts:
            self._dead_letters.put(self.path, self._in_flight, error, self.attempts)
            self.dead_lettered += len(self._in_flight)
            self._in_flight = []
            self.attempts = 0
            return
        attempts = self.attempts
        self.release()
        self.attempts = attempts

    def give_back(self) -> None:
        """The worker is removed for good: unfinished items return to the channel's head."""
        self.release()
        if self._redeliver:
            self.channel.putback(list(self._redeliver))
            self._redeliver.clear()
