"""Counts the collectors' fault tests share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mdp.model import Reason, Trade


def backfilled_after_start(trades: Mapping[str, Iterable[Trade]]) -> int:
    """Trades backfilled after each stream's first live one: those before it are the start
    (what was made between the REST anchor and the first frame), not a fault's."""
    count = 0
    for stream in trades.values():
        listed = list(stream)
        live = [t.trade_id for t in listed if Reason.BACKFILLED.value not in t.quality.reasons]
        first_live = min(live, default=None)
        count += sum(
            1
            for t in listed
            if Reason.BACKFILLED.value in t.quality.reasons
            and (first_live is None or t.trade_id > first_live)
        )
    return count
