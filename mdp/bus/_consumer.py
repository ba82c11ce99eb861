"""The Kafka consumer on Trio: a consumer group member with at-least-once commits.

``receive()`` returns a :class:`Fetched` batch; ``ack(fetched)`` says downstream has it,
and only acknowledged positions are ever committed (asynchronously at a fetch, at most
every ``commit_interval``; synchronously on a revoke and on close). The contract is
receive → hand on → ack → receive, so at a rebalance nothing is in flight: the revoke
callback commits what was acknowledged for the partitions going away and forgets them,
and the next owner starts from there — a restart or a rebalance can repeat only the
uncommitted tail, never skip.

Every librdkafka call runs in a worker thread (``trio.to_thread``), one at a time, so the
consumer object is never used from two threads at once, and the rebalance callbacks run
in that thread too. The thread is not abandoned on cancel: a fetch waits at most
``poll_timeout``, and an abandoned thread could still be inside librdkafka when ``close``
runs. A fetch is ``poll(timeout)`` for the first message (it returns as soon as one is
there) and ``consume(n, 0)`` for what is already queued behind it: a low latency at a
trickle and whole batches under load.

A message that does not decode (garbage, an unknown schema version) goes to the
dead-letter store with its topic, partition, offset and the reason, and consumption goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
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


class KafkaConsumer:
    """Built by :func:`open_kafka_consumer`, which subscribes it and closes it."""

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
        self._assigned: set[TP] = set()
        self._acked: dict[TP, int] = {}
        self._committed: dict[TP, int] = {}
        conf = config.librdkafka(bootstrap, group)
        conf["on_commit"] = self._on_commit
        conf["logger"] = _librdkafka_log  # not stderr; served inside poll/consume
        try:
            self._kafka = _RdConsumer(conf)
        except KafkaException as exc:
            raise BusError(f"cannot create a Kafka consumer for {bootstrap}: {exc}") from None
        self._closed = False
        self._last_commit = 0.0

    @property
    def assignment(self) -> set[TP]:
        return set(self._assigned)

    # -- the Trio side -------------------------------------------------------------------

    async def receive(self) -> Fetched:
        """The next batch (waits until there is one)."""
        while True:
            messages = await trio.to_thread.run_sync(self._fetch)
            if messages:
                fetched = self._decode(messages)
                if fetched.offsets:
                    return fetched

    def ack(self, fetched: Fetched) -> None:
        """Downstream has ``fetched``: its positions may be committed. Positions of a
        partition this member no longer owns are ignored (its new owner reads them)."""
        assigned, acked = self._assigned, self._acked
        for tp, offset in fetched.offsets.items():
            if tp in assigned and offset > acked.get(tp, -1):
                acked[tp] = offset

    async def commit(self) -> None:
        """Commit what was acknowledged now, and wait for the broker's answer."""
        await trio.to_thread.run_sync(self._commit, False)

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

    # -- the worker thread ---------------------------------------------------------------

    def _fetch(self) -> list[Any]:
        now = time.monotonic()
        if now - self._last_commit >= self.config.commit_interval:
            self._last_commit = now
            self._commit(True)
        kafka = self._kafka
        first = kafka.poll(self.config.poll_timeout)
        if first is None:
            return []
        more = self.config.max_messages - 1
        return [first, *kafka.consume(more, 0)] if more else [first]

    def _commit(self, asynchronous: bool, only: set[TP] | None = None) -> None:
        committed = self._committed
        offsets = [
            TopicPartition(topic, partition, offset)
            for (topic, partition), offset in list(self._acked.items())
            if committed.get((topic, partition)) != offset
            and (only is None or (topic, partition) in only)
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

    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self.stats.rebalances += 1
        self._assigned.update((tp.topic, tp.partition) for tp in partitions)

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self.stats.rebalances += 1
        going = {(tp.topic, tp.partition) for tp in partitions}
        self._commit(False, only=going)
        for tp in going:
            self._assigned.discard(tp)
            self._acked.pop(tp, None)
            self._committed.pop(tp, None)

    def _subscribe(self) -> None:
        # Lost partitions (session timed out) cannot be committed: just forget them.
        self._kafka.subscribe(
            self.topics,
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )

    def _on_lost(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self.stats.rebalances += 1
        for tp in partitions:
            key = (tp.topic, tp.partition)
            self._assigned.discard(key)
            self._acked.pop(key, None)
            self._committed.pop(key, None)

    def _close(self) -> None:
        if self._closed:
            return
        try:
            self._commit(False)
        finally:
            self._closed = True
            self._kafka.close()

    async def aclose(self) -> None:
        """Commit what was acknowledged and leave the group (bounded by ``close_timeout``)."""
        with trio.move_on_after(self.config.close_timeout, shield=True):
            await trio.to_thread.run_sync(self._close)


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
    """A subscribed group member; on exit it commits what was acknowledged and leaves.

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
        yield consumer
    finally:
        await consumer.aclose()
