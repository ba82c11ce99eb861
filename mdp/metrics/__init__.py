"""Prometheus ``/metrics`` for a role: the supervision tree's figures, read at scrape time."""

from mdp.metrics._serve import MetricsServer, parse_address, register_collector, serve_metrics
from mdp.metrics._tree import TreeCollector

__all__ = [
    "MetricsServer",
    "TreeCollector",
    "parse_address",
    "register_collector",
    "serve_metrics",
]
