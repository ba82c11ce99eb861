"""Making the topics: every configured kind for every configured instrument.

``mdp kafka topics --ensure`` and the roles at start call :func:`ensure_topics`: topics that
exist are left alone (their partitions and retention are the operator's from then on),
missing ones are created with the configured partitions, replication and retention.
The admin client blocks, so the async form runs it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs
import trio
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from mdp._exceptions import BusError
from mdp.bus._config import TopicsConfig
from mdp.instruments import load_symbols
from mdp.wire import topic_for

__all__ = [
    "EnsuredTopics",
    "configured_topics",
    "delete_topics",
    "ensure_topics",
    "ensure_topics_sync",
]


@attrs.frozen
class EnsuredTopics:
    created: tuple[str, ...]
    existing: tuple[str, ...]


def configured_topics(config: TopicsConfig, *, base: Path | None = None) -> list[str]:
    """Topic names for ``config.kinds`` × the instruments of ``config.symbols``."""
    path = Path(config.symbols)
    if base is not None and not path.is_absolute():
        path = base / path
    registry = load_symbols(path)
    return sorted({topic_for(kind, inst) for inst in registry for kind in config.kinds})


def _admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap})


def ensure_topics_sync(
    bootstrap: str, names: Iterable[str], config: TopicsConfig, *, timeout: float = 30.0
) -> EnsuredTopics:
    """Create the missing ones of ``names``; blocks up to about ``timeout`` seconds."""
    wanted = sorted(set(names))
    admin = _admin(bootstrap)
    try:
        existing = set(admin.list_topics(timeout=timeout).topics)
    except KafkaException as exc:
        raise BusError(f"cannot list topics on {bootstrap}: {exc}; is Kafka running?") from None
    missing = [name for name in wanted if name not in existing]
    created: list[str] = []
    if missing:
        settings = {"retention.ms": str(config.retention_ms), **config.extra}
        futures = admin.create_topics(
            [
                NewTopic(name, config.partitions, config.replication_factor, config=settings)
                for name in missing
            ],
            request_timeout=timeout,
        )
        for name, future in futures.items():
            try:
                future.result(timeout)
                created.append(name)
            except KafkaException as exc:
                error = exc.args[0]
                exists = KafkaError.TOPIC_ALREADY_EXISTS
                if isinstance(error, KafkaError) and error.code() == exists:
                    continue  # made by someone else in the meantime
                raise BusError(f"cannot create topic {name}: {exc}") from None
    return EnsuredTopics(
        created=tuple(sorted(created)),
        existing=tuple(name for name in wanted if name in existing),
    )


async def ensure_topics(
    bootstrap: str, names: Iterable[str], config: TopicsConfig, *, request_timeout: float = 30.0
) -> EnsuredTopics:
    """:func:`ensure_topics_sync` off the Trio loop (the admin client's own
    ``request_timeout`` bounds it; the thread cannot be cancelled half-way)."""
    names = list(names)
    return await trio.to_thread.run_sync(
        lambda: ensure_topics_sync(bootstrap, names, config, timeout=request_timeout)
    )


def delete_topics(bootstrap: str, names: Sequence[str], *, timeout: float = 30.0) -> None:
    """Delete ``names`` (tests clean up with it); blocks."""
    if not names:
        return
    admin = _admin(bootstrap)  # kept alive until the futures are done
    futures = admin.delete_topics(list(names), request_timeout=timeout)
    for name, future in futures.items():
        try:
            future.result(timeout)
        except KafkaException as exc:
            raise BusError(f"cannot delete topic {name}: {exc}") from None
