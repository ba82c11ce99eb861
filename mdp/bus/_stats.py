"""Counters of one producer or consumer; they live in the worker's memo, so they survive
restarts and /metrics reads them at scrape time."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import attrs

from mdp.model import Record

__all__ = ["ConsumerStats", "ProducerStats"]

_LATENCIES_KEPT = 65536


@attrs.define
class ProducerStats:
    records: int = 0  # delivered: the broker acknowledged them
    messages: int = 0
    bytes: int = 0
    delivery_errors: int = 0  # messages reported failed (then produced again)
    broker_errors: int = 0  # librdkafka's error callback: broker down, transport errors
    queue_full: int = 0  # produce() found the local queue full and waited
    blocked_seconds: float = 0.0  # time spent waiting for room in the local queue
    last_error: str = ""
    # Per acknowledged batch, for its oldest record: (exchange event time → ack, receive
    # time → ack) in ns, the first None when the exchange gave no time. The ack is the
    # batch's last delivery report, so this bounds every record of the batch from above.
    latencies: deque[tuple[int | None, int]] = attrs.Factory(lambda: deque(maxlen=_LATENCIES_KEPT))

    # Per record, when a deque is set here (off by default: it costs ~0.2 µs a record):
    # (exchange event time → the broker's acknowledgement of the record's own message,
    # receive time → the same) in ns, the first None when the exchange gave no time.
    record_latencies: deque[tuple[int | None, int]] | None = None

    def note_message_acked(self, records: Sequence[Record], now_ns: int) -> None:
        samples = self.record_latencies
        if samples is None:
            return
        for record in records:
            event_ns = record.exchange_time_ns
            samples.append(
                (None if event_ns is None else now_ns - event_ns, now_ns - record.receive_time_ns)
            )

    def note_acked(self, oldest: Record, now_ns: int) -> None:
        event_ns = oldest.exchange_time_ns
        self.latencies.append(
            (None if event_ns is None else now_ns - event_ns, now_ns - oldest.receive_time_ns)
        )


@attrs.define
class ConsumerStats:
    records: int = 0  # handed downstream
    messages: int = 0
    bytes: int = 0
    dead_letters: int = 0  # undecodable messages sent to the dead-letter store
    commits: int = 0
    commit_errors: int = 0
    rebalances: int = 0
    last_error: str = ""
