"""The Kafka producer on Trio: ``await send(records)`` returns once the broker has them.

librdkafka does the batching and retries in its own threads; what must not happen is a
librdkafka call that blocks the Trio loop. ``produce()`` never blocks (a full local queue
raises ``BufferError``, which becomes a wait: backpressure, never a drop). Delivery reports
and error callbacks are served by one dedicated thread that sits in ``poll(0.05)`` and hands
each report to the Trio loop with ``TrioToken.run_sync_soon`` (which never waits on Trio),
so a report reaches its waiter within microseconds instead of at the next poll tick of a
Trio-side loop (docs/bus.md, "Why a poller thread").

A record is done only when its delivery report says so: ``send`` waits for every report of
its messages, and produces a failed message again (after ``retry_backoff``) until it is
delivered. Failures become counters and :class:`SourceStatus` events (``degraded`` on the
first failure for an instrument, ``live`` again on its next delivery). Only a fatal error
(the idempotent producer's state is lost) raises :class:`BusError`; the worker's restart
builds a new producer, and the Inbox hands it the same batch again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

import trio
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka import Producer as _RdProducer

from mdp._exceptions import BusError
from mdp.bus._codec import HEADERS, OutMessage, to_messages
from mdp.bus._config import ProducerConfig
from mdp.bus._stats import ProducerStats
from mdp.model import Instrument, Record, SourceState, SourceStatus

__all__ = ["Delivery", "KafkaProducer", "StatusSink", "open_kafka_producer"]

_librdkafka_log = logging.getLogger("mdp.bus.kafka")

StatusSink = Callable[[SourceStatus], None]
_POLL_SECONDS = 0.05
_ROOM_WAIT = 0.05  # re-try a full queue at least this often even without a report


class _Pending:
    """The reports one ``send`` is waiting for."""

    def __init__(self, count: int) -> None:
        self.left = count
        self.failed: list[tuple[int, KafkaError]] = []
        self.done = trio.Event()
        if not count:
            self.done.set()


def _raise_if_fatal(pending: _Pending) -> None:
    for _, error in pending.failed:
        if error.fatal():
            raise BusError(f"the Kafka producer failed for good: {error.str()}")


class Delivery:
    """One publication's acknowledgement: :meth:`wait` returns once the broker has every
    message of it, producing again those reported failed (librdkafka has retried them
    already, for ``delivery_timeout_ms``)."""

    def __init__(
        self,
        producer: KafkaProducer,
        records: Sequence[Record],
        messages: list[OutMessage],
        pending: _Pending,
    ) -> None:
        self._producer = producer
        self._records = records
        self._messages = messages
        self._pending = pending

    @property
    def done(self) -> bool:
        return self._pending.done.is_set() and not self._pending.failed

    async def wait(self) -> None:
        producer, messages, pending = self._producer, self._messages, self._pending
        while True:
            await pending.done.wait()
            _raise_if_fatal(pending)
            if not pending.failed:
                break
            todo = sorted(index for index, _ in pending.failed)
            await trio.sleep(producer.config.retry_backoff)
            pending = self._pending = _Pending(len(todo))
            async with producer._order:
                for index in todo:
                    await producer._produce(messages[index], pending, index)
        if self._records:
            producer.stats.note_acked(self._records[0], time.time_ns())
        await trio.lowlevel.checkpoint()


class KafkaProducer:
    """Built by :func:`open_kafka_producer`, which runs its poller thread and flushes it."""

    def __init__(
        self,
        config: ProducerConfig,
        bootstrap: str,
        *,
        stats: ProducerStats | None = None,
        on_status: StatusSink | None = None,
    ) -> None:
        self.config = config
        self.stats = stats if stats is not None else ProducerStats()
        self._on_status = on_status
        self._token = trio.lowlevel.current_trio_token()
        self._room = trio.Event()
        self._stop = threading.Event()
        self._degraded: set[Instrument] = set()
        self._seen: set[Instrument] = set()
        self._order = trio.Lock()  # fair: publications produce in the order they asked
        conf = config.librdkafka(bootstrap)
        conf["error_cb"] = self._error_from_thread
        conf["logger"] = _librdkafka_log  # not stderr; served by the poller thread
        try:
            self._kafka = _RdProducer(conf)
        except KafkaException as exc:
            raise BusError(f"cannot create a Kafka producer for {bootstrap}: {exc}") from None

    def __len__(self) -> int:
        """Messages in librdkafka's queue (produced, not yet reported)."""
        return len(self._kafka)

    # -- the Trio side -------------------------------------------------------------------

    async def send(self, records: Sequence[Record]) -> None:
        """Publish ``records`` and return once every one was acknowledged by the broker."""
        await (await self.publish(records)).wait()

    async def publish(self, records: Sequence[Record]) -> Delivery:
        """Hand ``records`` to librdkafka (waiting only for room in its queue) and return
        what to wait on for the broker's acknowledgement. Publications are produced in
        the order of the calls, so several may be in flight at once and each key's
        records still reach the broker in order (idempotence keeps them in order there)."""
        if not records:
            await trio.lowlevel.checkpoint()
            return Delivery(self, records, [], _Pending(0))
        messages = to_messages(records, self.config.records_per_message)
        pending = _Pending(len(messages))
        async with self._order:
            for index, message in enumerate(messages):
                await self._produce(message, pending, index)
        return Delivery(self, records, messages, pending)

    async def _produce(self, message: OutMessage, pending: _Pending, index: int) -> None:
        kafka = self._kafka
        token = self._token
        report = self._report

        def on_delivery(error: KafkaError | None, _msg: Any) -> None:  # poller thread
            with suppress(trio.RunFinishedError):
                token.run_sync_soon(report, pending, index, message, error)

        self._seen.add(message.instrument)
        while True:
            try:
                kafka.produce(
                    message.topic,
                    value=message.value,
                    key=message.key,
                    headers=HEADERS,
                    on_delivery=on_delivery,
                )
                return
            except BufferError:
                await self._wait_for_room()
            except KafkaException as exc:
                raise BusError(f"cannot produce to {message.topic}: {exc}") from None

    async def _wait_for_room(self) -> None:
        self.stats.queue_full += 1
        start = trio.current_time()
        self._room = trio.Event()
        with trio.move_on_after(_ROOM_WAIT):
            await self._room.wait()
        self.stats.blocked_seconds += trio.current_time() - start

    def _report(
        self, pending: _Pending, index: int, message: OutMessage, error: KafkaError | None
    ) -> None:
        self._room.set()
        stats = self.stats
        if error is None:
            stats.messages += 1
            stats.records += message.count
            stats.bytes += len(message.value)
            if stats.record_latencies is not None:
                stats.note_message_acked(message.records, time.time_ns())
            if message.instrument in self._degraded:
                self._degraded.discard(message.instrument)
                self._status(message.instrument, SourceState.LIVE, "delivering again")
        else:
            stats.delivery_errors += 1
            stats.last_error = f"{message.topic}: {error.str()}"
            pending.failed.append((index, error))
            if error.fatal():
                pending.done.set()
                return
            if message.instrument not in self._degraded:
                self._degraded.add(message.instrument)
                self._status(message.instrument, SourceState.DEGRADED, stats.last_error)
        pending.left -= 1
        if pending.left == 0:
            pending.done.set()

    def _broker_error(self, error: KafkaError) -> None:
        self.stats.broker_errors += 1
        self.stats.last_error = error.str()
        for instrument in self._seen - self._degraded:
            self._degraded.add(instrument)
            self._status(instrument, SourceState.DEGRADED, f"kafka: {error.str()}")

    def _status(self, instrument: Instrument, state: SourceState, detail: str) -> None:
        if self._on_status is not None:
            self._on_status(
                SourceStatus(
                    instrument=instrument,
                    receive_time_ns=time.time_ns(),
                    stream="bus.producer",
                    state=state,
                    detail=detail,
                )
            )

    # -- the poller thread ---------------------------------------------------------------

    def _error_from_thread(self, error: KafkaError) -> None:
        with suppress(trio.RunFinishedError):
            self._token.run_sync_soon(self._broker_error, error)

    def _poll_forever(self) -> None:
        poll, stop = self._kafka.poll, self._stop
        while not stop.is_set():
            poll(_POLL_SECONDS)

    async def _run_poller(self, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        # Not abandoned on cancel: the thread notices _stop within _POLL_SECONDS, and a
        # thread left running would race the flush and close that follow.
        await trio.to_thread.run_sync(self._poll_forever)

    async def _flush_and_close(self) -> int:
        """Bounded: what is still queued after ``flush_timeout`` is purged, so it is
        reported undelivered (its batch was not acknowledged, and the Inbox redelivers it
        to the next instance). ``close()`` flushes without a bound, so it runs only once
        nothing is left, and in a thread like every other call that can wait."""
        kafka, timeout = self._kafka, self.config.flush_timeout
        left = -1
        # The flushes bound themselves (threads cannot be cancelled); the scope's bound
        # is only the style's rule that every shield has one.
        with trio.move_on_after(timeout + 5, shield=True):
            left = await trio.to_thread.run_sync(kafka.flush, timeout)
            if left:
                kafka.purge(in_queue=True, in_flight=True, blocking=False)
                await trio.to_thread.run_sync(kafka.flush, 1.0)
        with trio.move_on_after(5, shield=True):
            await trio.to_thread.run_sync(kafka.close)
        return left


@asynccontextmanager
async def open_kafka_producer(
    config: ProducerConfig,
    bootstrap: str,
    *,
    stats: ProducerStats | None = None,
    on_status: StatusSink | None = None,
) -> AsyncIterator[KafkaProducer]:
    """A producer with its poller thread running; on exit a bounded flush, then close."""
    producer = KafkaProducer(config, bootstrap, stats=stats, on_status=on_status)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(producer._run_poller)
            try:
                yield producer
            finally:
                producer._stop.set()
    finally:
        await producer._flush_and_close()
