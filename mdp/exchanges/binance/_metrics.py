"""The collector's Prometheus metrics, and the same totals as plain numbers (``totals``)
for the one-line summary of ``mdp collect`` and for tests.

Counting happens per batch, not per frame: the receive loop tallies frames per stream in
a dict and adds each tally once, and the lag histogram takes one sample per batch (the
newest frame's exchange time against the batch's receive time), so metrics stay off the
per-frame cost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client import Counter as PromCounter
from prometheus_client import Gauge, Histogram
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from mdp.metrics import register_collector
from mdp.supervision import Supervisor

__all__ = [
    "BACKFILLED",
    "GAPS",
    "LAG",
    "LIVENESS",
    "MALFORMED",
    "MESSAGES",
    "RECONNECTS",
    "REST_LIMITED",
    "REST_WEIGHT",
    "RESYNCS",
    "STREAM_STATE",
    "totals",
]

MESSAGES = PromCounter(
    "mdp_collector_messages", "Frames received per stream", ["exchange", "market", "stream"]
)
LAG = Histogram(
    "mdp_collector_lag_seconds",
    "Exchange event time to local receive time (one sample per batch)",
    ["exchange", "market"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GAPS = PromCounter("mdp_collector_gaps", "Gaps detected", ["exchange", "market", "kind"])
BACKFILLED = PromCounter(
    "mdp_collector_backfilled_trades", "Trades filled in from REST", ["exchange", "market"]
)
RESYNCS = PromCounter(
    "mdp_collector_resyncs", "Books rebuilt from snapshots", ["exchange", "market"]
)
RECONNECTS = PromCounter(
    "mdp_collector_reconnects", "WebSocket connections re-opened", ["exchange", "market", "reason"]
)
MALFORMED = PromCounter(
    "mdp_collector_malformed_frames", "Frames that could not be parsed", ["exchange", "market"]
)
REST_WEIGHT = Gauge("mdp_collector_rest_weight_used", "REST weight used this minute", ["market"])
REST_LIMITED = PromCounter(
    "mdp_collector_rest_rate_limited", "REST answers 429/418", ["market", "status"]
)
STREAM_STATE = Gauge(
    "mdp_collector_stream_healthy", "1 if the stream delivers as expected", ["market", "stream"]
)
LIVENESS = PromCounter(
    "mdp_collector_liveness_events", "Streams found silent or stale", ["market", "state"]
)

totals: Counter[str] = Counter()
"""Process-wide totals: messages, gaps, backfilled, resyncs, reconnects, malformed, …"""

_ALL: tuple[Collector, ...] = (
    MESSAGES, LAG, GAPS, BACKFILLED, RESYNCS, RECONNECTS, MALFORMED, REST_WEIGHT,
    REST_LIMITED, STREAM_STATE, LIVENESS,
)  # fmt: skip


class _Exported(Collector):
    """The metrics above, in every role's /metrics (mdp.metrics.register_collector)."""

    def collect(self) -> Iterator[Metric]:
        for metric in _ALL:
            yield from metric.collect()


@register_collector
def _exported(root: Supervisor, role: str) -> Collector:
    return _Exported()
