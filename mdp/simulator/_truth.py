"""Ground truth for tests: what the simulator emitted, rendered exactly as on the wire.

A collector under test should end up with exactly these trades (by id, price and qty
strings, times) and, after applying depth diffs, exactly these books at the checkpoints.
"""

from __future__ import annotations

from typing import Any

import attrs

from mdp.simulator._hub import Hub
from mdp.simulator._instruments import Market
from mdp.simulator._market import SymbolMarket

__all__ = ["TruthAggTrade", "TruthBook", "TruthTrade", "agg_trades", "book", "trades"]


@attrs.frozen
class TruthTrade:
    id: int
    price: str
    qty: str
    time_ms: int
    buyer_is_maker: bool


@attrs.frozen
class TruthAggTrade:
    id: int
    price: str
    qty: str
    first_id: int
    last_id: int
    time_ms: int
    buyer_is_maker: bool


@attrs.frozen
class TruthBook:
    """The book right after ``update_id``; levels best first, as (price, qty) strings."""

    update_id: int
    bids: tuple[tuple[str, str], ...]
    asks: tuple[tuple[str, str], ...]


def _market(hub: Hub, market: Market, symbol: str) -> SymbolMarket:
    try:
        return hub.markets[market][symbol]
    except KeyError:
        names = ", ".join(hub.markets[market])
        raise LookupError(f"no {market.value} symbol {symbol!r}; simulated: {names}") from None


def trades(
    hub: Hub, market: Market, symbol: str, from_id: int | None = None, limit: int | None = None
) -> list[TruthTrade]:
    m = _market(hub, market, symbol)
    tape = m.trades
    start = tape.first_id if from_id is None else from_id
    n = tape.next_id - start if limit is None else limit
    price, qty = m.inst.price.render, m.inst.qty.render
    return [
        TruthTrade(t.id, price(t.price), qty(t.qty), t.time_ms, t.buyer_is_maker)
        for t in tape.get(start, max(0, n))
    ]


def agg_trades(
    hub: Hub, market: Market, symbol: str, from_id: int | None = None, limit: int | None = None
) -> list[TruthAggTrade]:
    m = _market(hub, market, symbol)
    tape = m.aggs
    start = tape.first_id if from_id is None else from_id
    n = tape.next_id - start if limit is None else limit
    price, qty = m.inst.price.render, m.inst.qty.render
    return [
        TruthAggTrade(
            a.id, price(a.price), qty(a.qty), a.first_id, a.last_id, a.time_ms, a.buyer_is_maker
        )
        for a in tape.get(start, max(0, n))
    ]


def book(hub: Hub, market: Market, symbol: str, update_id: int) -> TruthBook | None:
    """The checkpoint at ``update_id`` (every depth frame's ``u`` and every REST
    snapshot's ``lastUpdateId`` is one), or None if it is not (or no longer) kept."""
    m = _market(hub, market, symbol)
    cp = m.checkpoints.get(update_id)
    if cp is None:
        return None
    price, qty = m.inst.price.render, m.inst.qty.render
    return TruthBook(
        cp.update_id,
        tuple((price(p), qty(q)) for p, q in cp.bids),
        tuple((price(p), qty(q)) for p, q in cp.asks),
    )


def checkpoint_ids(hub: Hub, market: Market, symbol: str) -> list[int]:
    return _market(hub, market, symbol).checkpoints.ids()


def to_json(value: Any) -> Any:
    return attrs.asdict(value) if attrs.has(type(value)) else value
