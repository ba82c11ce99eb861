"""Prometheus figures of the bus workers, read from their nodes' memos at scrape time:
records and bytes delivered or consumed, delivery and broker errors, time blocked on a full
local queue, dead letters, commits and rebalances. Registered with
``mdp.metrics.register_collector``, so every role's ``/metrics`` has them once
``mdp.bus`` is imported."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from mdp.bus._stats import ConsumerStats, ProducerStats
from mdp.metrics import register_collector
from mdp.supervision import Supervisor

__all__ = ["BusCollector"]

_PRODUCER = {
    "records": "Records the broker acknowledged",
    "messages": "Kafka messages the broker acknowledged",
    "bytes": "Bytes of acknowledged messages",
    "delivery_errors": "Messages reported undelivered (and produced again)",
    "broker_errors": "librdkafka errors: broker down, transport failures",
    "queue_full": "Times produce found the local queue full and waited",
    "blocked_seconds": "Seconds spent waiting for room in the local queue",
}
_CONSUMER = {
    "records": "Records handed downstream",
    "messages": "Kafka messages fetched",
    "bytes": "Bytes fetched",
    "dead_letters": "Undecodable messages sent to the dead-letter store",
    "commits": "Offset commits",
    "commit_errors": "Offset commits that failed",
    "rebalances": "Partition assignments and revocations",
}


@register_collector
class BusCollector(Collector):
    def __init__(self, root: Supervisor, role: str) -> None:
        self.root = root
        self.role = role

    def collect(self) -> Iterator[Metric]:
        labels = ["role", "path"]
        producer = {
            name: CounterMetricFamily(f"mdp_bus_producer_{name}", text, labels=labels)
            for name, text in _PRODUCER.items()
        }
        consumer = {
            name: CounterMetricFamily(f"mdp_bus_consumer_{name}", text, labels=labels)
            for name, text in _CONSUMER.items()
        }
        for node in self.root.walk():
            stats = node.memo.get("stats")
            if isinstance(stats, ProducerStats):
                families = producer
            elif isinstance(stats, ConsumerStats):
                families = consumer
            else:
                continue
            for name, family in families.items():
                family.add_metric([self.role, node.path], float(getattr(stats, name)))
        yield from producer.values()
        yield from consumer.values()
