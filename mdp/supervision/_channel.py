"""Bounded channels owned by a supervisor.

A channel lives in the supervisor that declares it, not in the tasks that use it, so a
restarting worker does not take the buffer (and the items in it) with it. It counts in
items, not in batches: a batch of 100 takes 100 places, and ``send_batch`` is atomic (all
of the batch or none of it), so a worker killed while sending never leaves half a batch
behind to be sent again by its next instance.

Overflow policy per edge: ``block`` (backpressure, the default) or ``drop_oldest`` (only for
live views, where the newest value is worth more than a complete history); drops are
counted.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import attrs
import trio

from mdp.supervision._buffer import ChunkedBuffer

__all__ = ["Channel", "ChannelStats", "OverflowPolicy", "schedule_point"]

# A cooperative budget, as Tokio gives its tasks: an operation that did not have to wait
# still checks for cancellation every time, but lets the scheduler run only every
# _BUDGET such operations. A producer and a consumer moving batches then take turns once
# per buffer-full instead of once per batch; a task that never has to wait (sending into
# a drop_oldest channel, say) still yields often enough not to starve anyone.
_BUDGET = 16
_budget = _BUDGET


async def schedule_point() -> None:
    """Yield to the scheduler once every ``_BUDGET`` calls (never raises Cancelled)."""
    global _budget
    _budget -= 1
    if _budget <= 0:
        _budget = _BUDGET
        await trio.lowlevel.cancel_shielded_checkpoint()


class OverflowPolicy(enum.StrEnum):
    """What a full channel does with one more item: make the sender wait, or drop the
    oldest item it holds."""

    BLOCK = "block"
    DROP_OLDEST = "drop_oldest"


@attrs.frozen(kw_only=True)
class ChannelStats:
    """A snapshot of one channel, for the control socket and /metrics."""

    name: str
    path: str
    capacity: int
    policy: OverflowPolicy
    depth: int
    peak: int
    items_in: int
    items_out: int
    dropped: int
    blocked_seconds: float


class Channel:
    """A bounded FIFO of items with stats; shared by any number of senders and receivers.

    Built by the supervisor from a :class:`~mdp.supervision.ChannelSpec`; workers reach it
    through their context. Blocked time is measured on Trio's clock, so tests with a
    ``MockClock`` see exact figures.
    """

    def __init__(
        self,
        name: str,
        capacity: int,
        policy: OverflowPolicy = OverflowPolicy.BLOCK,
        *,
        path: str = "",
    ) -> None:
        if capacity < 1:
            raise ValueError(f"channel {name!r}: capacity must be at least 1, got {capacity}")
        self.name = name
        self.path = path or name
        self.capacity = capacity
        self.policy = OverflowPolicy(policy)
        self._buffer = ChunkedBuffer()
        self._not_empty = trio.lowlevel.ParkingLot()
        self._not_full = trio.lowlevel.ParkingLot()
        self._emptied = trio.lowlevel.ParkingLot()
        self._closed = False
        self.peak = 0
        self.items_in = 0
        self.items_out = 0
        self.dropped = 0
        self.blocked_seconds = 0.0

    def __repr__(self) -> str:
        return f"<Channel {self.path} {len(self._buffer)}/{self.capacity}>"

    @property
    def depth(self) -> int:
        return len(self._buffer)

    def stats(self) -> ChannelStats:
        return ChannelStats(
            name=self.name,
            path=self.path,
            capacity=self.capacity,
            policy=self.policy,
            depth=len(self._buffer),
            peak=self.peak,
            items_in=self.items_in,
            items_out=self.items_out,
            dropped=self.dropped,
            blocked_seconds=self.blocked_seconds,
        )

    # -- sending -------------------------------------------------------------------------

    async def send(self, item: Any) -> None:
        """Put one item; with ``block`` wait while the channel is full."""
        await trio.lowlevel.checkpoint_if_cancelled()
        await self._wait_for_room(1)
        self._put_one(item)
        await schedule_point()

    async def send_batch(self, items: Sequence[Any]) -> None:
        """Put all of ``items`` at once, or (if cancelled while waiting) none of them.

        A batch larger than the capacity waits for an empty channel and then goes in whole:
        splitting it would break the all-or-nothing promise.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        if items:
            await self._wait_for_room(len(items))
            self._put(items)
        await schedule_point()

    def send_nowait(self, item: Any) -> None:
        """Put one item without waiting; :class:`trio.WouldBlock` if full under ``block``."""
        self._check_open()
        if self.policy is OverflowPolicy.BLOCK and len(self._buffer) >= self.capacity:
            raise trio.WouldBlock
        self._put_one(item)

    async def _wait_for_room(self, n: int) -> None:
        self._check_open()
        if self.policy is OverflowPolicy.DROP_OLDEST:
            return
        need = min(n, self.capacity)
        if self.capacity - len(self._buffer) >= need:
            return
        start = trio.current_time()
        try:
            while self.capacity - len(self._buffer) < need:
                await self._not_full.park()
                self._check_open()
        finally:
            self.blocked_seconds += trio.current_time() - start

    def _put_one(self, item: Any) -> None:
        self._buffer.append(item)
        self.items_in += 1
        self._after_put()

    def _put(self, items: Sequence[Any]) -> None:
        self.items_in += self._buffer.extend(items)
        self._after_put()

    def _after_put(self) -> None:
        buffer = self._buffer
        if self.policy is OverflowPolicy.DROP_OLDEST:
            excess = len(buffer) - self.capacity
            if excess > 0:
                buffer.drop(excess)
                self.dropped += excess
        if len(buffer) > self.peak:
            self.peak = len(buffer)
        if self._not_empty:
            self._not_empty.unpark_all()

    # -- receiving -----------------------------------------------------------------------

    async def receive(self) -> Any:
        """Take the oldest item, waiting for one; :class:`trio.EndOfChannel` once closed
        and empty."""
        await trio.lowlevel.checkpoint_if_cancelled()
        if not self._buffer:
            await self._wait_for_items()
            return self._take(1)[0]
        item = self._take(1)[0]
        await schedule_point()
        return item

    async def receive_batch(self, max_items: int) -> list[Any]:
        """Take between 1 and ``max_items`` items (whatever is there), waiting for at
        least one."""
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {max_items}")
        await trio.lowlevel.checkpoint_if_cancelled()
        if not self._buffer:
            await self._wait_for_items()
            return self._take(max_items)
        items = self._take(max_items)
        await schedule_point()
        return items

    def receive_nowait(self) -> Any:
        if not self._buffer:
            if self._closed:
                raise trio.EndOfChannel
            raise trio.WouldBlock
        return self._take(1)[0]

    async def _wait_for_items(self) -> None:
        while not self._buffer:
            if self._closed:
                raise trio.EndOfChannel
            await self._not_empty.park()

    def _take(self, n: int) -> list[Any]:
        buffer = self._buffer
        items = buffer.take(n)
        self.items_out += len(items)
        if self._not_full:
            self._not_full.unpark_all()
        if self._emptied and not buffer:
            self._emptied.unpark_all()
        return items

    def putback(self, items: Sequence[Any]) -> None:
        """Return items to the head of the channel, ahead of everything else.

        Used when a worker is removed for good with items in flight: they go back where
        they came from instead of being lost. It may exceed the capacity for a moment.
        """
        self._buffer.push_front(list(items))
        self.items_out -= len(items)
        if self._not_empty:
            self._not_empty.unpark_all()

    async def wait_empty(self) -> None:
        """Return once the channel holds nothing (for a graceful drain)."""
        await trio.lowlevel.checkpoint()
        while self._buffer and not self._closed:
            await self._emptied.park()

    # -- closing -------------------------------------------------------------------------

    def close(self) -> None:
        """Close for good: senders get :class:`trio.ClosedResourceError`, receivers get
        what is left and then :class:`trio.EndOfChannel`. Synchronous, for cleanup."""
        self._closed = True
        self._not_empty.unpark_all()
        self._not_full.unpark_all()
        self._emptied.unpark_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise trio.ClosedResourceError(f"channel {self.path} is closed")
