"""The bus: model records to Kafka and back, or through an in-process bus for role ``all``.

Producers (``await send(records)``, done once the broker acknowledged every record) and
consumer group members (``receive`` → hand on → ``ack``; only acknowledged positions are
committed) have the same interface on both transports; see docs/bus.md. Importing this
package registers the ``bus.producer`` and ``bus.consumer`` components.
"""

from mdp.bus import _workers as _workers  # registers the components
from mdp.bus._config import (
    BusConfig,
    Compression,
    ConsumerConfig,
    ProducerConfig,
    TopicsConfig,
    bootstrap_servers,
    load_bus_config,
)
from mdp.bus._consumer import KafkaConsumer, open_kafka_consumer
from mdp.bus._fetched import Fetched
from mdp.bus._interface import BusConsumer, BusProducer, open_consumer, open_producer
from mdp.bus._memory import (
    MemoryBus,
    MemoryConsumer,
    MemoryProducer,
    forget_memory_bus,
    memory_bus,
)
from mdp.bus._metrics import BusCollector
from mdp.bus._producer import KafkaProducer, open_kafka_producer
from mdp.bus._stats import ConsumerStats, ProducerStats
from mdp.bus._topics import (
    EnsuredTopics,
    configured_topics,
    delete_topics,
    ensure_topics,
    ensure_topics_sync,
)
from mdp.bus._workers import ConsumerArgs, ProducerArgs

__all__ = [
    "BusCollector",
    "BusConfig",
    "BusConsumer",
    "BusProducer",
    "Compression",
    "ConsumerArgs",
    "ConsumerConfig",
    "ConsumerStats",
    "EnsuredTopics",
    "Fetched",
    "KafkaConsumer",
    "KafkaProducer",
    "MemoryBus",
    "MemoryConsumer",
    "MemoryProducer",
    "ProducerArgs",
    "ProducerConfig",
    "ProducerStats",
    "TopicsConfig",
    "bootstrap_servers",
    "configured_topics",
    "delete_topics",
    "ensure_topics",
    "ensure_topics_sync",
    "forget_memory_bus",
    "load_bus_config",
    "memory_bus",
    "open_consumer",
    "open_kafka_consumer",
    "open_kafka_producer",
    "open_producer",
]
