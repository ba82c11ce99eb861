"""The Binance adapter: spot and USD-M futures market data into the model.

Wire parsing (``_parse``), trade continuity with REST backfill (``_trades``), book sync
per the exchange's rules (``_book``), REST with a shared weight budget (``_rest``),
instrument metadata (``_instruments``), stream groups as supervised workers
(``_group``, ``_component``: ``binance.streams`` and ``binance.count``). The wire formats
and rules are in shared/reference/exchange-wire-formats.md; docs/collector.md says how to
run it.
"""

from mdp.exchanges.binance import _component  # noqa: F401  (registers the components)
from mdp.exchanges.binance._book import BookSync
from mdp.exchanges.binance._config import StreamGroupArgs
from mdp.exchanges.binance._dispatch import GroupState
from mdp.exchanges.binance._group import StreamGroup
from mdp.exchanges.binance._instruments import (
    REGISTRY,
    fetch_instruments,
    instruments_from_exchange_info,
)
from mdp.exchanges.binance._metrics import totals
from mdp.exchanges.binance._rest import RestClient
from mdp.exchanges.binance._trades import TradeTracker

__all__ = [
    "REGISTRY",
    "BookSync",
    "GroupState",
    "RestClient",
    "StreamGroup",
    "StreamGroupArgs",
    "TradeTracker",
    "fetch_instruments",
    "instruments_from_exchange_info",
    "totals",
]
