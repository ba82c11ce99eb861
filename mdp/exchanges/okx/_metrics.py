"""The OKX collector's figures: the same Prometheus families as the Binance collector's
(``mdp_collector_*``, imported from there, labelled ``exchange="okx"``), and the OKX
totals as plain numbers for ``mdp collect okx`` and tests (kept apart from Binance's, so
two collectors in one process each report their own)."""

from __future__ import annotations

from collections import Counter

from mdp.exchanges.binance._metrics import (
    BACKFILLED,
    GAPS,
    LAG,
    LIVENESS,
    MALFORMED,
    MESSAGES,
    RECONNECTS,
    RESYNCS,
    STREAM_STATE,
)

__all__ = [
    "BACKFILLED",
    "GAPS",
    "LAG",
    "LIVENESS",
    "MALFORMED",
    "MESSAGES",
    "RECONNECTS",
    "RESYNCS",
    "STREAM_STATE",
    "totals",
]

totals: Counter[str] = Counter()
"""Process-wide OKX totals: messages, gaps, backfilled, resyncs, reconnects, …"""
