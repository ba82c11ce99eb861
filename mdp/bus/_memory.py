"""The in-process bus: Kafka's interface and guarantees, in memory, for role ``all``.

Topics are logs of records (no encoding: records are immutable, and role ``all`` has one
process); consumer groups keep committed positions per topic and spread the topics over
their members round-robin, rebalancing when a member joins or leaves or a topic appears.
A member reads from its group's committed position, so a member that goes away without
acknowledging hands its uncommitted tail to the next owner: the same at-least-once
behaviour as the Kafka consumer. Bounded: a producer waits while the slowest group that
reads a topic is ``capacity`` records behind (backpressure, never a drop); a topic no group
reads keeps its newest ``capacity`` records, as Kafka's retention would.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import trio

from mdp._exceptions import BusError
from mdp.bus._codec import group_by_topic
from mdp.bus._fetched import Fetched
from mdp.bus._stats import ConsumerStats, ProducerStats
from mdp.model import Record

__all__ = ["MemoryBus", "MemoryConsumer", "MemoryProducer", "forget_memory_bus", "memory_bus"]


class _Log:
    def __init__(self, name: str) -> None:
        self.name = name
        self.base = 0  # offset of records[0]
        self.records: list[Record] = []
        self.dropped = 0

    @property
    def end(self) -> int:
        return self.base + len(self.records)

    def read(self, position: int, limit: int) -> list[Record]:
        start = max(position, self.base) - self.base
        return self.records[start : start + limit]

    def trim(self, keep_from: int) -> None:
        if keep_from > self.base:
            del self.records[: keep_from - self.base]
            self.base = keep_from


class _Group:
    def __init__(self, name: str) -> None:
        self.name = name
        self.committed: dict[str, int] = {}
        self.members: list[MemoryConsumer] = []
        self.patterns: list[re.Pattern[str]] = []  # of every member that ever joined

    def reads(self, topic: str) -> bool:
        return any(p.fullmatch(topic) for p in self.patterns)


def _pattern(topic: str) -> re.Pattern[str]:
    return re.compile(topic[1:] if topic.startswith("^") else re.escape(topic))


class MemoryBus:
    """One process's bus; get the shared one of a name with :func:`memory_bus`."""

    def __init__(self, *, capacity: int = 100_000, max_records: int = 10_000) -> None:
        if capacity < 1 or max_records < 1:
            raise ValueError("capacity and max_records must be at least 1")
        self.capacity = capacity
        self.max_records = max_records
        self.logs: dict[str, _Log] = {}
        self.groups: dict[str, _Group] = {}
        self._data = trio.lowlevel.ParkingLot()  # new records, or a rebalance
        self._room = trio.lowlevel.ParkingLot()  # a group committed: logs may have room

    def producer(self, *, stats: ProducerStats | None = None) -> MemoryProducer:
        return MemoryProducer(self, stats)

    def consumer(
        self, topics: Sequence[str], *, group: str, stats: ConsumerStats | None = None
    ) -> MemoryConsumer:
        """A new member of ``group`` reading ``topics`` (names, or ``^regex``); ``close``
        it when done."""
        member = MemoryConsumer(self, [_pattern(t) for t in topics], group, stats)
        g = self.groups.setdefault(group, _Group(group))
        g.members.append(member)
        g.patterns.extend(member.patterns)
        self._rebalance(g)
        return member

    def end_offsets(self) -> dict[str, int]:
        return {name: log.end for name, log in self.logs.items()}

    # -- internals -----------------------------------------------------------------------

    def _log(self, topic: str) -> _Log:
        log = self.logs.get(topic)
        if log is None:
            log = self.logs[topic] = _Log(topic)
            for group in self.groups.values():
                if group.reads(topic):
                    self._rebalance(group)
        return log

    def _lag(self, log: _Log) -> int | None:
        """Records the slowest reading group has not committed; None if nobody reads."""
        name = log.name
        positions = [g.committed.get(name, 0) for g in self.groups.values() if g.reads(name)]
        if not positions:
            return None
        return log.end - min(positions)

    def _retain(self, log: _Log) -> None:
        lag = self._lag(log)
        if lag is None:
            excess = len(log.records) - self.capacity
            if excess > 0:
                log.dropped += excess
                log.trim(log.base + excess)
        else:
            log.trim(log.end - lag)

    def _rebalance(self, group: _Group) -> None:
        members = [m for m in group.members if not m.closed]
        before = {id(m): m.assigned for m in members}
        for member in members:
            member.assigned = {}
        turn = 0
        for topic in sorted(self.logs):
            readers = [m for m in members if any(p.fullmatch(topic) for p in m.patterns)]
            if readers:
                member = readers[turn % len(readers)]
                turn += 1
                # A member that keeps a topic keeps its position (what it has in hand is
                # its own to acknowledge); a topic that moves starts from the commit.
                kept = before[id(member)].get(topic)
                member.assigned[topic] = kept if kept is not None else group.committed.get(topic, 0)
        for member in members:
            member.generation += 1
        self._data.unpark_all()


class MemoryProducer:
    """``await send(records)``: in the log once it returns (there is no broker to ack)."""

    def __init__(self, bus: MemoryBus, stats: ProducerStats | None) -> None:
        self.bus = bus
        self.stats = stats if stats is not None else ProducerStats()

    async def send(self, records: Sequence[Record]) -> None:
        await trio.lowlevel.checkpoint_if_cancelled()
        bus = self.bus
        for topic, group in group_by_topic(records).items():
            log = bus._log(topic)
            start = trio.current_time()
            waited = False
            while True:
                lag = bus._lag(log)
                if lag is None or lag == 0 or lag + len(group) <= bus.capacity:
                    break
                waited = True
                await bus._room.park()
            if waited:
                self.stats.queue_full += 1
                self.stats.blocked_seconds += trio.current_time() - start
            log.records.extend(group)
            bus._retain(log)
            self.stats.messages += 1
            self.stats.records += len(group)
        bus._data.unpark_all()
        await trio.lowlevel.cancel_shielded_checkpoint()

    async def publish(self, records: Sequence[Record]) -> Delivered:
        """As ``send``: in the log once it returns, so there is nothing to wait for."""
        await self.send(records)
        return _DELIVERED


class Delivered:
    """The in-process bus's acknowledgement, which is in hand as soon as it is asked for."""

    done = True

    async def wait(self) -> None:
        await trio.lowlevel.checkpoint()


_DELIVERED = Delivered()


class MemoryConsumer:
    """A group member with the Kafka consumer's contract: receive → hand on → ack."""

    def __init__(
        self,
        bus: MemoryBus,
        patterns: list[re.Pattern[str]],
        group: str,
        stats: ConsumerStats | None,
    ) -> None:
        self.bus = bus
        self.patterns = patterns
        self.group = group
        self.stats = stats if stats is not None else ConsumerStats()
        self.assigned: dict[str, int] = {}  # topic -> next position to read
        self.generation = 0
        self.closed = False

    @property
    def assignment(self) -> set[tuple[str, int]]:
        return {(topic, 0) for topic in self.assigned}

    async def receive(self) -> Fetched:
        if self.closed:
            raise BusError("this in-process consumer is closed")
        await trio.lowlevel.checkpoint_if_cancelled()
        bus = self.bus
        while True:
            records: list[Record] = []
            offsets: dict[tuple[str, int], int] = {}
            room = bus.max_records
            for topic, position in self.assigned.items():
                log = bus.logs[topic]
                got = log.read(position, room)
                if got:
                    records.extend(got)
                    position = max(position, log.base) + len(got)
                    self.assigned[topic] = position
                    offsets[(topic, 0)] = position
                    room -= len(got)
                    if not room:
                        break
            if records:
                self.stats.records += len(records)
                self.stats.messages += len(offsets)
                await trio.lowlevel.cancel_shielded_checkpoint()
                return Fetched(records, offsets, len(offsets))
            await bus._data.park()

    def ack(self, fetched: Fetched) -> None:
        group = self.bus.groups[self.group]
        for (topic, _), offset in fetched.offsets.items():
            if topic in self.assigned and offset > group.committed.get(topic, 0):
                group.committed[topic] = offset
                self.bus._retain(self.bus.logs[topic])
        self.stats.commits += 1
        self.bus._room.unpark_all()

    async def commit(self) -> None:
        await trio.lowlevel.checkpoint()

    def close(self) -> None:
        """Leave the group; what was received and not acknowledged goes to the next owner."""
        if self.closed:
            return
        self.closed = True
        group = self.bus.groups[self.group]
        group.members.remove(self)
        self.assigned = {}
        self.bus._rebalance(group)

    async def aclose(self) -> None:
        self.close()
        await trio.lowlevel.checkpoint()


_BUSES: dict[str, MemoryBus] = {}


def memory_bus(
    name: str = "default", *, capacity: int = 100_000, max_records: int = 10_000
) -> MemoryBus:
    """The process's in-process bus called ``name`` (made on first use, with these
    settings), so that the producer and consumer workers of role ``all`` meet on it."""
    bus = _BUSES.get(name)
    if bus is None:
        bus = _BUSES[name] = MemoryBus(capacity=capacity, max_records=max_records)
    return bus


def forget_memory_bus(name: str) -> None:
    """Drop the bus called ``name`` (tests make one per run)."""
    _BUSES.pop(name, None)
