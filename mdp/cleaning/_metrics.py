"""Prometheus figures of the cleaning stages, read from their nodes at scrape time:
records in and out, flagged by reason, dead-lettered, and the measured clock skew."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mdp.cleaning._stage import StageStats
from mdp.supervision import Supervisor

__all__ = ["CleaningCollector"]

COMPONENT = "cleaning.stage"


class CleaningCollector(Collector):
    def __init__(self, root: Supervisor, role: str) -> None:
        self.root = root
        self.role = role

    def collect(self) -> Iterator[Metric]:
        labels = ["role", "stage", "path"]
        records_in = CounterMetricFamily(
            "mdp_cleaning_records_in", "Records into a stage", labels=labels
        )
        records_out = CounterMetricFamily(
            "mdp_cleaning_records_out", "Records a stage passed on", labels=labels
        )
        dead = CounterMetricFamily(
            "mdp_cleaning_dead_lettered",
            "Unrepairable records a stage sent to the dead letters",
            labels=labels,
        )
        flagged = CounterMetricFamily(
            "mdp_cleaning_flagged", "Records flagged, by reason", labels=[*labels, "reason"]
        )
        skew = GaugeMetricFamily(
            "mdp_clock_skew_seconds",
            "Our clock minus the exchange's, as the receive-time stage measures it",
            labels=["role", "exchange"],
        )
        for node in self.root.walk():
            if node.component is None or node.component.name != COMPONENT:
                continue
            stats = node.memo.get("stats")
            if not isinstance(stats, StageStats):
                continue
            key = [self.role, node.args.stage, node.path]
            records_in.add_metric(key, stats.records_in)
            records_out.add_metric(key, stats.records_out)
            dead.add_metric(key, stats.dead_lettered)
            for reason, count in list(stats.flagged.items()):
                flagged.add_metric([*key, reason], count)
            for exchange, value in dict(node.memo.get("clock_skew_ns", {})).items():
                skew.add_metric([self.role, exchange], value / 1e9)
        yield from (records_in, records_out, dead, flagged, skew)
