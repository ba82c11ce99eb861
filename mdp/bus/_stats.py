"""Counters of one producer or consumer; they live in the worker's memo, so they survive
restarts and /metrics reads them at scrape time."""

from __future__ import annotations

import attrs

__all__ = ["ConsumerStats", "ProducerStats"]


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
