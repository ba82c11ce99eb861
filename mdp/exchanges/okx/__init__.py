"""The OKX adapter: v5 public market data (SPOT and linear SWAP) into the model.

Wire parsing (``_parse``), trade continuity by ``tradeId``/``count`` with REST backfill
(``_trades``), book sync by ``prevSeqId``/``seqId`` with heartbeats, resets and the
legacy checksum (``_book``, ``_checksum``), paced REST (``_rest``), instruments and
``ctVal`` (``_instruments``), stream groups as supervised workers (``_group``,
``_component``: ``okx.streams`` and ``okx.count``). A copy of the Binance adapter's
shape, not a generalization of it (ARCHITECTURE.md); docs/okx.md says how to run it.
"""

from mdp.exchanges.okx import _component  # noqa: F401  (registers the components)
from mdp.exchanges.okx._book import BookSync
from mdp.exchanges.okx._checksum import checksum, checksum_string
from mdp.exchanges.okx._config import OkxStreamsArgs
from mdp.exchanges.okx._dispatch import GroupState
from mdp.exchanges.okx._group import StreamGroup
from mdp.exchanges.okx._instruments import REGISTRY, fetch_instruments, instruments_from_okx
from mdp.exchanges.okx._metrics import totals
from mdp.exchanges.okx._rest import OkxRestClient
from mdp.exchanges.okx._trades import TradeTracker

__all__ = [
    "REGISTRY",
    "BookSync",
    "GroupState",
    "OkxRestClient",
    "OkxStreamsArgs",
    "StreamGroup",
    "TradeTracker",
    "checksum",
    "checksum_string",
    "fetch_instruments",
    "instruments_from_okx",
    "totals",
]
