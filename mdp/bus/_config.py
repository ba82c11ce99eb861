"""The bus's settings: one attrs class per side, structured from ``etc/mdp/bus.toml``.

Defaults are what a collector on one machine wants: batches of a thousand trades per Kafka
message, no linger (the batches are large already, and a linger of 0.5 ms cost about 1.5 ms
per send, which a record pays twice: in its own send and waiting for the one before:
docs/benchmarks.md),
lz4 (cheap on the CPU, halves the bytes of decimal strings), and the idempotent producer
with ``acks=all``. Anything else librdkafka knows goes through ``extra`` unchanged.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Any

import attrs

from mdp.config import read_toml, structure
from mdp.model import Kind

__all__ = [
    "BusConfig",
    "Compression",
    "ConsumerConfig",
    "ProducerConfig",
    "TopicsConfig",
    "bootstrap_servers",
    "load_bus_config",
]

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


def _positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be greater than 0, got {value!r}")


def _not_negative(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must be 0 or more, got {value!r}")


class Compression(enum.StrEnum):
    NONE = "none"
    GZIP = "gzip"
    SNAPPY = "snappy"
    LZ4 = "lz4"
    ZSTD = "zstd"


@attrs.frozen(kw_only=True)
class ProducerConfig:
    """How records become Kafka messages and how hard the producer batches."""

    records_per_message: int = attrs.field(default=1000, validator=_positive)
    linger_ms: float = attrs.field(default=0.0, validator=_not_negative)
    batch_bytes: int = attrs.field(default=1_048_576, validator=_positive)  # batch.size
    compression: Compression = Compression.LZ4
    queue_max_messages: int = attrs.field(default=100_000, validator=_positive)
    queue_max_kbytes: int = attrs.field(default=262_144, validator=_positive)
    # How long librdkafka keeps retrying one message before it reports it failed; the
    # producer then produces it again, so this bounds an error report, not a loss.
    delivery_timeout_ms: int = attrs.field(default=120_000, validator=_positive)
    retry_backoff: float = attrs.field(default=0.5, validator=_not_negative)
    flush_timeout: float = attrs.field(default=10.0, validator=_positive)
    extra: dict[str, str] = attrs.field(factory=dict)

    def librdkafka(self, bootstrap: str) -> dict[str, Any]:
        conf: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": self.linger_ms,
            "batch.size": self.batch_bytes,
            "compression.type": self.compression.value,
            "queue.buffering.max.messages": self.queue_max_messages,
            "queue.buffering.max.kbytes": self.queue_max_kbytes,
            "message.timeout.ms": self.delivery_timeout_ms,
            "message.max.bytes": max(self.batch_bytes, 1_000_000) + 65_536,
        }
        conf.update(self.extra)
        return conf


@attrs.frozen(kw_only=True)
class ConsumerConfig:
    """A consumer group member: how much it takes per call and how it is assigned work."""

    group: str = "mdp"
    max_messages: int = attrs.field(default=200, validator=_positive)  # per consume call
    # The consumer thread's poll() returns at a message or after this long: how soon it
    # notices a stop or a commit() request (not a latency: a message ends the wait).
    poll_timeout: float = attrs.field(default=0.1, validator=_positive)
    auto_offset_reset: str = "earliest"
    # Topics are per instrument, with one partition each, so spreading topics (not
    # partitions of one topic) over the members is what balances a group.
    assignment_strategy: str = "roundrobin"
    session_timeout_ms: int = attrs.field(default=10_000, validator=_positive)
    # Acknowledged positions are committed (asynchronously) at most this often, and
    # always on a revoke and on close; a crash repeats at most this much more.
    commit_interval: float = attrs.field(default=0.2, validator=_not_negative)
    # How long the broker may hold a fetch that found nothing (fetch.wait.max.ms).
    fetch_wait_ms: int = attrs.field(default=10, validator=_positive)
    close_timeout: float = attrs.field(default=10.0, validator=_positive)
    extra: dict[str, str] = attrs.field(factory=dict)

    def librdkafka(self, bootstrap: str, group: str | None = None) -> dict[str, Any]:
        conf: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "group.id": group or self.group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": self.auto_offset_reset,
            "partition.assignment.strategy": self.assignment_strategy,
            "session.timeout.ms": self.session_timeout_ms,
            "fetch.wait.max.ms": self.fetch_wait_ms,
            "topic.metadata.refresh.interval.ms": 5_000,  # a new topic joins a pattern soon
        }
        conf.update(self.extra)
        return conf


@attrs.frozen(kw_only=True)
class TopicsConfig:
    """Which topics ``mdp kafka topics --ensure`` makes: every kind for every instrument of
    the symbols file, with these partitions and retention."""

    symbols: str = "etc/mdp/symbols.toml"
    kinds: tuple[Kind, ...] = tuple(Kind)
    # One partition per topic: a topic holds one instrument and the key is its symbol, so
    # every message of a topic would land in the same partition anyway.
    partitions: int = attrs.field(default=1, validator=_positive)
    replication_factor: int = attrs.field(default=1, validator=_positive)
    retention_ms: int = attrs.field(default=7 * 24 * 3600 * 1000, validator=_positive)
    extra: dict[str, str] = attrs.field(factory=dict)  # more topic configs


@attrs.frozen(kw_only=True)
class BusConfig:
    bootstrap: str = DEFAULT_BOOTSTRAP
    producer: ProducerConfig = ProducerConfig()
    consumer: ConsumerConfig = ConsumerConfig()
    topics: TopicsConfig = TopicsConfig()


def bootstrap_servers(config: BusConfig, override: str = "") -> str:
    """``override`` if given, else ``$MDP_KAFKA_BOOTSTRAP`` (what ``scripts/services env``
    sets), else the file's ``bootstrap``."""
    return override or os.environ.get("MDP_KAFKA_BOOTSTRAP") or config.bootstrap


def load_bus_config(path: str | Path | None) -> BusConfig:
    """Read ``path`` (the built-in defaults when ``None`` or empty)."""
    if not path:
        return BusConfig()
    data, source = read_toml(Path(path), what="bus configuration file")
    return structure(data, BusConfig, source=source)
