"""The Kafka consumer on Trio: a consumer group member with at-least-once commits.

``receive()`` returns a :class:`Fetched` batch; ``ack(fetched)`` says downstream has it,
and only acknowledged positions are ever committed (asynchronously at most every
``commit_interval``; synchronously on a revoke and on close). A restart or a rebalance
can repeat only the uncommitted tail, never skip.

One thread per consumer owns the librdkafka consumer: it sits in ``poll()``, commits, runs
the rebalance callbacks and closes, so no librdkafka call blocks the Trio loop and the
consumer object is never used from two threads at once. A fetch is ``poll(poll_timeout)``
for the first message (it returns as soon as one is there) and ``consume(n, 0)`` for what
is queued behind it; the thread hands the batch to Trio with ``TrioToken.run_sync_soon``
and goes straight back to ``poll`` — at most one batch ahead: it fetches again only once
``receive`` has taken the last one. So a message that arrives finds the thread waiting
for it, not somewhere in a round trip through the Trio loop (docs/bus.md, "Why a consumer
thread"). Batches are decoded on the Trio side, in ``receive``.

The contract is receive → hand on → ack → receive. librdkafka calls the revoke callback
inside ``poll``, in the thread, while the caller may still hold a batch; the callback
waits until the caller is between batches — inside ``receive`` or ``commit`` — and then,
on the Trio side and with no checkpoint in between, the partitions going away stop being
assigned (messages of theirs fetched ahead are dropped) and their acknowledged positions
are taken; the thread commits those synchronously before the callback returns, and the
next owner starts exactly there. The thread is not abandoned: it notices a stop within
``poll_timeout``, and closing waits for it (bounded by ``close_timeout``).

A message that does not decode (garbage, an unknown schema version) goes to the
dead-letter store with its topic, partition, offset and the reason, and consumption goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import trio
from confluent_kafka import Consumer as _RdConsumer
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from mdp._exceptions import BusError, WireError
from mdp.bus._codec import columns_from_message, from_message
from mdp.bus._config import ConsumerConfig
from mdp.bus._fetched import Fetched, dead_letter_item
from mdp.bus._stats import ConsumerStats
from mdp.model import Record
from mdp.supervision import DeadLetterStore, MemoryDeadLetters
from mdp.wire._columns import ColumnBatch

__all__ = ["KafkaConsumer", "open_kafka_consumer"]

TP = tuple[str, int]
_librdkafka_log = logging.getLogger("mdp.bus.kafka")
_EXIT_SLACK = 5.0  # seconds beyond close_timeout that closing waits for the thread


def _nothing() -> None:
    pass


class _Revoke:
    """Partitions going away, waiting for the caller to be between batches."""

    __slots__ = ("done", "going", "offsets")

    def __init__(self, going: set[TP]) -> None:
        self.going = going
        self.offsets: dict[TP, int] = {}  # their acknowledged positions, to commit
        self.done = threading.Event()


class KafkaConsumer:
    """Built by :func:`open_kafka_consumer`, which subscribes it, runs its thread and
    closes it."""

    def __init__(
        self,
        config: ConsumerConfig,
        bootstrap: str,
        topics: Sequence[str],
        *,
        group: str | None = None,
        dead_letters: DeadLetterStore | None = None,
        path: str = "bus.consumer",
        stats: ConsumerStats | None = None,
    ) -> None:
        self.config = config
        self.topics = list(topics)
        self.path = path
        self.stats = stats if stats is not None else ConsumerStats()
        self.dead_letters: DeadLetterStore = (
            dead_letters if dead_letters is not None else MemoryDeadLetters()
        )
        self._token = trio.lowlevel.current_trio_token()
        # The Trio side's: what is assigned and acknowledged, what the thread handed over.
        self._assigned: set[TP] = set()
        self._acked: dict[TP, int] = {}
        self._ready: deque[list[Any]] = deque()
        self._arrived = trio.Event()
        self._between = False  # the caller is in receive() or commit(): it holds no batch
        self._closing = False
        self._revokes: list[_Revoke] = []
        self._failure: BaseException | None = None
        self._gone = trio.Event()  # the thread has closed the consumer and ended
        # The thread's: what it owns and has committed, and what it was asked for.
        self._owned: set[TP] = set()
        self._committed: dict[TP, int] = {}
        self._commit_requests: deque[trio.Event] = deque()
        self._taken = threading.Event()  # receive() took the last batch handed over
        self._taken.set()
        self._stop = threading.Event()
        self._last_commit = 0.0
        self._thread: threading.Thread | None = None
        conf = config.librdkafka(bootstrap, group)
        conf["on_commit"] = self._on_commit
        conf["logger"] = _librdkafka_log  # not stderr; served inside poll/consume
        try:
            self._kafka = _RdConsumer(conf)
        except KafkaException as exc:
            raise BusError(f"cannot create a Kafka consumer for {bootstrap}: {exc}") from None
        self._closed = False

    @property
    def assignment(self) -> set[TP]:
        return set(self._assigned)

    # -- the Trio side -------------------------------------------------------------------

    async def receive(self) -> Fetched:
        """The next batch (waits until there is one)."""
        while True:
            fetched = self._decode(await self._next_batch())
            if fetched.offsets:
                return fetched

    async def _next_batch(self) -> list[Any]:
        self._between = True
        try:
            self._settle_revokes()
            await trio.lowlevel.checkpoint()
            while not self._ready:
                self._raise_if_gone()
                self._arrived = trio.Event()
                await self._arrived.wait()
        finally:
            self._between = False
        # No checkpoint from here to the end of _decode: a revoke cannot slip in between
        # taking the batch and dropping the messages of partitions that went away.
        messages = self._ready.popleft()
        self._taken.set()
        return messages

    def ack(self, fetched: Fetched) -> None:
        """Downstream has ``fetched``: its positions may be committed. Positions of a
        partition this member no longer owns are ignored (its new owner reads them)."""
        assigned, acked = self._assigned, self._acked
        for tp, offset in fetched.offsets.items():
            if tp in assigned and offset > acked.get(tp, -1):
                acked[tp] = offset

    async def commit(self) -> None:
        """Commit what was acknowledged now, and wait for the broker's answer (the thread
        takes the request at its next turn, within ``poll_timeout``)."""
        self._raise_if_gone()
        done = trio.Event()
        self._commit_requests.append(done)
        self._between = True
        try:
            self._settle_revokes()
            await done.wait()
        finally:
            self._between = False
        self._raise_if_gone()

    def _raise_if_gone(self) -> None:
        if self._failure is not None:
            raise self._failure
        if self._gone.is_set():
            raise BusError(f"the Kafka consumer of {self.path} is closed")

    def _hand_over(self, messages: list[Any]) -> None:
        self._ready.append(messages)
        self._arrived.set()

    def _revoke_requested(self, revoke: _Revoke) -> None:
        self._revokes.append(revoke)
        if self._between or self._closing:
            self._settle_revokes()

    def _settle_revokes(self) -> None:
        assigned, acked = self._assigned, self._acked
        for revoke in self._revokes:
            for tp in revoke.going:
                assigned.discard(tp)
                if tp in acked:
                    revoke.offsets[tp] = acked.pop(tp)
            revoke.done.set()
        self._revokes.clear()

    def _forget(self, lost: set[TP]) -> None:
        for tp in lost:
            self._assigned.discard(tp)
            self._acked.pop(tp, None)

    def _failed(self, error: BaseException) -> None:
        self._failure = error
        self._arrived.set()

    def _ended(self) -> None:
        self._gone.set()
        self._arrived.set()

    # "records", or "columns": batches of trades handed on as their wire columns
    # (ColumnBatch in Fetched.columns), for a sink; bus.consumer sets it (ConsumerArgs).
    deliver = "records"

    def _decode(self, messages: list[Any]) -> Fetched:
        stats = self.stats
        records: list[Record] = []
        columns: list[ColumnBatch] = []
        offsets: dict[TP, int] = {}
        assigned = self._assigned
        count = 0
        as_columns = self.deliver == "columns"
        rows = 0
        for msg in messages:
            error = msg.error()
            if error is not None:
                self._message_error(error)
                continue
            tp = (msg.topic(), msg.partition())
            if tp not in assigned:  # revoked while this fetch was queued
                continue
            value = msg.value()
            offsets[tp] = msg.offset() + 1
            count += 1
            stats.bytes += len(value) if value is not None else 0
            try:
                if not as_columns:
                    records.extend(from_message(value, msg.headers()))
                    continue
                decoded = columns_from_message(value, msg.headers())
                if isinstance(decoded, list):
                    records.extend(decoded)
                elif decoded.rows:
                    columns.append(decoded)
                    rows += decoded.rows
            except WireError as exc:
                self._dead_letter(msg, exc)
        stats.messages += count
        stats.records += len(records) + rows
        return Fetched(records, offsets, count, columns)

    def _dead_letter(self, msg: Any, error: WireError) -> None:
        item = dead_letter_item(
            msg.topic(), msg.partition(), msg.offset(), msg.key(), msg.value(), str(error)
        )
        self.dead_letters.put(self.path, [item], error, 0)
        self.stats.dead_letters += 1

    def _message_error(self, error: KafkaError) -> None:
        if error.code() == KafkaError._PARTITION_EOF:
            return
        self.stats.last_error = error.str()
        if error.fatal():
            raise BusError(f"the Kafka consumer failed for good: {error.str()}")

    # -- the thread ----------------------------------------------------------------------

    def _soon(self, fn: Callable[..., object], *args: Any) -> bool:
        """Run ``fn(*args)`` on the Trio side (never waits on the Trio loop)."""
        try:
            self._token.run_sync_soon(fn, *args)
        except trio.RunFinishedError:
            return False
        return True

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._commit_when_due()
                if not self._taken.wait(self.config.poll_timeout):
                    continue  # receive() has not taken the last batch yet
                messages = self._fetch()
                if messages:
                    self._taken.clear()
                    self._soon(self._hand_over, messages)
        except Exception as exc:  # librdkafka's, or one raised in a callback
            self._soon(self._failed, exc)
        finally:
            try:
                self._close()
            finally:
                for done in self._commit_requests:
                    self._soon(done.set)
                self._soon(self._ended)

    def _fetch(self) -> list[Any]:
        kafka = self._kafka
        first = kafka.poll(self.config.poll_timeout)
        if first is None:
            return []
        more = self.config.max_messages - 1
        return [first, *kafka.consume(more, 0)] if more else [first]

    def _commit_when_due(self) -> None:
        requests = self._commit_requests
        now = time.monotonic()
        if requests:
            served = [requests.popleft() for _ in range(len(requests))]
            self._last_commit = now
            self._commit(self._acked.copy(), asynchronous=False)
            for done in served:
                self._soon(done.set)
        elif now - self._last_commit >= self.config.commit_interval:
            self._last_commit = now
            self._commit(self._acked.copy(), asynchronous=True)

    def _commit(self, acked: dict[TP, int], *, asynchronous: bool) -> None:
        """Commit ``acked`` (a copy of the Trio side's, or the positions of a revoke) for
        the partitions this member still owns, where it moved since the last commit."""
        committed, owned = self._committed, self._owned
        offsets = [
            TopicPartition(topic, partition, offset)
            for (topic, partition), offset in acked.items()
            if (topic, partition) in owned and committed.get((topic, partition)) != offset
        ]
        if not offsets:
            return
        try:
            if asynchronous:
                self._kafka.commit(offsets=offsets, asynchronous=True)
            else:
                self._kafka.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            self.stats.commit_errors += 1
            self.stats.last_error = f"commit: {exc}"
            return
        for tp in offsets:
            committed[(tp.topic, tp.partition)] = tp.offset
        self.stats.commits += 1

    def _on_commit(self, error: KafkaError | None, partitions: list[TopicPartition]) -> None:
        if error is not None:
            self.stats.commit_errors += 1
            self.stats.last_error = f"commit: {error.str()}"
            for tp in partitions:  # commit it again next time
                self._committed.pop((tp.topic, tp.partition), None)

    def _subscribe(self) -> None:
        # Lost partitions (session timed out) cannot be committed: just forget them.
        self._kafka.subscribe(
            self.topics,
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )

    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self.stats.rebalances += 1
        coming = {(tp.topic, tp.partition) for tp in partitions}
        self._owned |= coming
        self._soon(self._assigned.update, coming)  # before any batch fetched after this

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self.stats.rebalances += 1
        going = {(tp.topic, tp.partition) for tp in partitions}
        revoke = _Revoke(going)
        if self._soon(self._revoke_requested, revoke):
            # Settled at once when the caller is between batches or the consumer closes;
            # otherwise once the caller is done with the batch it holds.
            while not revoke.done.wait(self.config.poll_timeout):
                if not self._soon(_nothing):  # the Trio run ended
                    break
        if not revoke.done.is_set():  # the Trio run is gone: what was acknowledged
            revoke.offsets = {tp: o for tp, o in self._acked.copy().items() if tp in going}
        self._commit(revoke.offsets, asynchronous=False)
        self._owned -= going
        for tp in going:
            self._committed.pop(tp, None)

    def _on_lost(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self.stats.rebalances += 1
        lost = {(tp.topic, tp.partition) for tp in partitions}
        self._owned -= lost
        for tp in lost:
            self._committed.pop(tp, None)
        self._soon(self._forget, lost)

    def _close(self) -> None:
        """Commit what was acknowledged and leave the group (the revoke callback runs in
        here once more, and is settled at once: the caller is done)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._commit(self._acked.copy(), asynchronous=False)
        finally:
            try:
                self._kafka.close()
            except (KafkaException, RuntimeError) as exc:
                self.stats.last_error = f"close: {exc}"

    # -- start and stop ------------------------------------------------------------------

    def _start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"kafka-consumer {self.path}", daemon=True
        )
        self._thread.start()

    async def aclose(self) -> None:
        """Commit what was acknowledged and leave the group; waits for the thread (bounded
        by ``close_timeout``, and the thread would finish on its own after that)."""
        self._closing = True
        self._settle_revokes()
        self._stop.set()
        self._taken.set()
        with trio.move_on_after(
            self.config.close_timeout + self.config.poll_timeout + _EXIT_SLACK, shield=True
        ):
            if self._thread is None:
                await trio.to_thread.run_sync(self._close)
            else:
                await self._gone.wait()


@asynccontextmanager
async def open_kafka_consumer(
    config: ConsumerConfig,
    bootstrap: str,
    topics: Sequence[str],
    *,
    group: str | None = None,
    dead_letters: DeadLetterStore | None = None,
    path: str = "bus.consumer",
    stats: ConsumerStats | None = None,
) -> AsyncIterator[KafkaConsumer]:
    """A subscribed group member with its thread running; on exit it commits what was
    acknowledged and leaves.

    ``topics`` are names or, starting with ``^``, regular expressions (``^trade\\..*``).
    """
    consumer = KafkaConsumer(
        config,
        bootstrap,
        topics,
        group=group,
        dead_letters=dead_letters,
        path=path,
        stats=stats,
    )
    try:
        await trio.to_thread.run_sync(consumer._subscribe)
        consumer._start()
        yield consumer
    finally:
        await consumer.aclose()
