"""Ground truth of the OKX simulator, rendered exactly as on the wire: trade messages by
``tradeId`` (sizes in contracts for a SWAP, as ``sz`` is), books at their checkpoints
(every push's ``seqId`` and every REST snapshot's), liquidations and funding pushes."""

from __future__ import annotations

from typing import Any

import attrs

from mdp.simulator._truth import TruthBook
from mdp.simulator.okx._hub import OkxHub
from mdp.simulator.okx._market import OkxMarket

__all__ = ["OkxTruthTrade", "book", "checkpoint_ids", "trades"]


@attrs.frozen
class OkxTruthTrade:
    trade_id: int  # the last id of the message's fills
    count: int
    price: str
    size: str  # wire units: base for SPOT, contracts for SWAP
    time_ms: int
    side: str  # the taker's: buy or sell


def _market(hub: OkxHub, inst_id: str) -> OkxMarket:
    try:
        return hub.markets[inst_id]
    except KeyError:
        raise LookupError(
            f"no instrument {inst_id!r}; simulated: {', '.join(hub.markets)}"
        ) from None


def trades(hub: OkxHub, inst_id: str, from_id: int | None = None) -> list[OkxTruthTrade]:
    """Every trade message kept, or those with ``tradeId >= from_id``."""
    m = _market(hub, inst_id)
    pr, qr = m.inst.price.render, m.inst.qty.render
    tape = m.tape.all() if from_id is None else m.tape.since(from_id)
    return [
        OkxTruthTrade(
            t.trade_id, t.count, pr(t.price), qr(t.qty), t.time_ms, "buy" if t.taker_buy else "sell"
        )
        for t in tape
    ]


def book(hub: OkxHub, inst_id: str, seq_id: int) -> TruthBook | None:
    m = _market(hub, inst_id)
    cp = m.checkpoints.get(seq_id)
    if cp is None:
        return None
    pr, qr = m.inst.price.render, m.inst.qty.render
    return TruthBook(
        cp.update_id,
        tuple((pr(p), qr(q)) for p, q in cp.bids),
        tuple((pr(p), qr(q)) for p, q in cp.asks),
    )


def checkpoint_ids(hub: OkxHub, inst_id: str) -> list[int]:
    return _market(hub, inst_id).checkpoints.ids()


def liquidations(hub: OkxHub, inst_id: str) -> list[dict[str, Any]]:
    """Every liquidation generated (not the pre-start one the first push replays)."""
    return list(_market(hub, inst_id).liquidation_log)


def funding(hub: OkxHub, inst_id: str) -> list[dict[str, Any]]:
    return list(_market(hub, inst_id).funding_log)
