"""Prometheus metrics of a supervision tree, read at scrape time.

Nothing on the hot path counts for Prometheus: channels and nodes already keep their
numbers, and this collector reads them when ``/metrics`` is scraped. The scrape runs in
prometheus-client's HTTP thread; it only reads plain attributes (no Trio calls), and a
figure a microsecond stale is fine for a scrape.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mdp.supervision import NodeState, Supervisor

__all__ = ["TreeCollector"]


class TreeCollector(Collector):
    """Restarts and state per node, channel figures per channel, dead letters per role."""

    def __init__(self, root: Supervisor, role: str) -> None:
        self.root = root
        self.role = role

    def collect(self) -> Iterator[Metric]:
        role = self.role
        nodes = self.root.walk()
        restarts = CounterMetricFamily(
            "mdp_node_restarts",
            "Restarts of a node since the role started",
            labels=["role", "path"],
        )
        up = GaugeMetricFamily("mdp_node_up", "1 if the node is running", labels=["role", "path"])
        redelivered = CounterMetricFamily(
            "mdp_node_redelivered_items",
            "Items handed again to a restarted worker",
            labels=["role", "path"],
        )
        for node in nodes:
            restarts.add_metric([role, node.path], node.restarts)
            up.add_metric([role, node.path], 1.0 if node.state is NodeState.RUNNING else 0.0)
            if node.inboxes:
                redelivered.add_metric([role, node.path], sum(i.redelivered for i in node.inboxes))
        yield restarts
        yield up
        yield redelivered

        labels = ["role", "channel"]
        depth = GaugeMetricFamily("mdp_channel_depth", "Items in the channel", labels=labels)
        peak = GaugeMetricFamily("mdp_channel_peak_depth", "Highest depth seen", labels=labels)
        capacity = GaugeMetricFamily("mdp_channel_capacity", "Capacity in items", labels=labels)
        items_in = CounterMetricFamily("mdp_channel_items_in", "Items sent", labels=labels)
        items_out = CounterMetricFamily("mdp_channel_items_out", "Items received", labels=labels)
        dropped = CounterMetricFamily(
            "mdp_channel_dropped_items", "Items dropped by drop_oldest", labels=labels
        )
        blocked = CounterMetricFamily(
            "mdp_channel_blocked_seconds", "Time senders spent waiting for room", labels=labels
        )
        for ch in self.root.all_channels():
            key = [role, ch.path]
            depth.add_metric(key, ch.depth)
            peak.add_metric(key, ch.peak)
            capacity.add_metric(key, ch.capacity)
            items_in.add_metric(key, ch.items_in)
            items_out.add_metric(key, ch.items_out)
            dropped.add_metric(key, ch.dropped)
            blocked.add_metric(key, ch.blocked_seconds)
        yield from (depth, peak, capacity, items_in, items_out, dropped, blocked)

        dead = CounterMetricFamily(
            "mdp_dead_letters", "Deliveries sent to the dead-letter store", labels=["role"]
        )
        dead.add_metric([role], self.root.dead_letters.count)
        yield dead
