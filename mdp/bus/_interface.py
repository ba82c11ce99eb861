"""The bus's interface, which the Kafka bus and the in-process bus both have, and one way
to open either from configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from mdp.bus._config import BusConfig, bootstrap_servers
from mdp.bus._consumer import open_kafka_consumer
from mdp.bus._fetched import Fetched
from mdp.bus._memory import memory_bus
from mdp.bus._producer import StatusSink, open_kafka_producer
from mdp.bus._stats import ConsumerStats, ProducerStats
from mdp.model import Record
from mdp.supervision import DeadLetterStore

__all__ = ["BusConsumer", "BusDelivery", "BusProducer", "open_consumer", "open_producer"]


class BusDelivery(Protocol):
    @property
    def done(self) -> bool: ...

    async def wait(self) -> None:
        """Return once every record of the publication is on the bus."""


class BusProducer(Protocol):
    stats: ProducerStats

    async def send(self, records: Sequence[Record]) -> None:
        """Return once every record is on the bus (for Kafka: acknowledged by the broker)."""

    async def publish(self, records: Sequence[Record]) -> BusDelivery:
        """Hand the records on in call order; wait on the result for the acknowledgement."""


class BusConsumer(Protocol):
    stats: ConsumerStats

    @property
    def assignment(self) -> set[tuple[str, int]]: ...

    async def receive(self) -> Fetched:
        """The next batch, waiting for one."""

    def ack(self, fetched: Fetched) -> None:
        """Downstream has ``fetched``: its positions may be committed."""

    async def commit(self) -> None:
        """Commit what was acknowledged now."""


@asynccontextmanager
async def open_producer(
    config: BusConfig,
    *,
    transport: str = "kafka",
    bootstrap: str = "",
    bus: str = "default",
    stats: ProducerStats | None = None,
    on_status: StatusSink | None = None,
) -> AsyncIterator[BusProducer]:
    """A producer on Kafka (``transport="kafka"``) or on the in-process bus ``bus``."""
    if transport == "memory":
        yield memory_bus(bus).producer(stats=stats)
        return
    async with open_kafka_producer(
        config.producer, bootstrap_servers(config, bootstrap), stats=stats, on_status=on_status
    ) as producer:
        yield producer


@asynccontextmanager
async def open_consumer(
    config: BusConfig,
    topics: Sequence[str],
    *,
    transport: str = "kafka",
    bootstrap: str = "",
    bus: str = "default",
    group: str = "",
    dead_letters: DeadLetterStore | None = None,
    path: str = "bus.consumer",
    stats: ConsumerStats | None = None,
) -> AsyncIterator[BusConsumer]:
    """A consumer group member on Kafka or on the in-process bus ``bus``."""
    group = group or config.consumer.group
    if transport == "memory":
        member = memory_bus(bus).consumer(topics, group=group, stats=stats)
        try:
            yield member
        finally:
            member.close()
        return
    async with open_kafka_consumer(
        config.consumer,
        bootstrap_servers(config, bootstrap),
        topics,
        group=group,
        dead_letters=dead_letters,
        path=path,
        stats=stats,
    ) as consumer:
        yield consumer
