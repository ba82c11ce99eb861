"""Trade continuity by trade id, per symbol and stream (sans-I/O).

Binance numbers trades per symbol with consecutive ids (``t`` on ``@trade``, ``a`` on
``@aggTrade``), so every gap and every duplicate is visible. A duplicate (a resent frame,
or the overlap of two connections during a rollover) is dropped on its id. A gap starts a
REST backfill; until it completes, later trades are held back, so that downstream sees
ids in order: the backfilled trades (quality reason ``backfilled``) come first, then the
held ones. What REST cannot give (the exchange's history no longer has it, or REST keeps
failing) becomes a :class:`~mdp.model.Gap` with the exact missing range.

The tracker is kept in the worker's memo, so a restarted connection task resumes from the
last id it delivered and backfills what it missed while it was down.
"""

from __future__ import annotations

from typing import Any

from mdp.exchanges._ws import Payload
from mdp.exchanges.binance._parse import (
    AggTradeMsg,
    TradeMsg,
    agg_trade_decoder,
    build_trade,
    trade_decoder,
)
from mdp.model import PERFECT, Gap, Instrument, Record, Side, Trade
from mdp.model import _records as _r
from mdp.model._numbers import wire_decimals

__all__ = ["TradeTracker"]

_new = object.__new__
_fields = _r._TradeFields
_decimal = wire_decimals.__getitem__
_SELL, _BUY = Side.SELL, Side.BUY
_MAX_HELD = 1_000_000  # trades held behind a backfill before the gap is given up


class TradeTracker:
    """``next_id`` is the id expected next (``None`` before the first trade)."""

    def __init__(
        self, inst: Instrument, stream: str, id_key: str, gaps: list[TradeTracker] | None = None
    ) -> None:
        self.inst = inst
        self.opened: list[TradeTracker] = gaps if gaps is not None else []
        self.stream = stream
        self.id_key = id_key  # "t" or "a"
        self._msg = TradeMsg if id_key == "t" else AggTradeMsg
        self._decode = (trade_decoder if id_key == "t" else agg_trade_decoder).decode
        self.next_id: int | None = None
        # The first id this tracker answers for, from REST before its first subscription
        # (StreamGroup anchors it): a first frame later than it opens a gap, so trades
        # missed by a connection lost before its first frame are backfilled, not skipped.
        self.floor_id: int | None = None
        self.held: list[Trade] | None = None  # not None while a backfill is in flight
        self.gap: tuple[int, int] | None = None
        self.duplicates = 0
        self.gaps = 0

    def on_payload(
        self, raw: Payload | TradeMsg | AggTradeMsg, recv_ns: int, out: list[Record]
    ) -> None:
        """Take one stream payload (the stream's handler), raw or already decoded (a group
        of trade streams decodes envelope and trade in one pass). A gap it opens puts this
        tracker on the ``opened`` list for the caller to backfill (``self.gap``)."""
        # (an exact type check: cheaper than isinstance, and mypy does not narrow on it)
        x = raw if type(raw) is self._msg else self._decode(raw)  # type: ignore[arg-type]
        tid: int = x.tid
        nxt = self.next_id
        if tid == nxt and self.held is None:  # the hot path: the Trade built inline
            o: Any = _new(_fields)
            o.instrument = self.inst
            o.receive_time_ns = recv_ns
            e = x.E
            o.exchange_time_ns = None if e is None else e * 1_000_000
            o.match_time_ns = x.T * 1_000_000
            o.sequence = tid
            o.quality = PERFECT
            o.extra = ()
            o.trade_id = tid
            o.price = _decimal(x.p)
            o.size = _decimal(x.q)
            o.side = _SELL if x.m else _BUY
            o.__class__ = Trade  # see build_trade: the private mutable twin becomes a Trade
            out.append(o)
            self.next_id = tid + 1
            return
        if nxt is not None and tid < nxt:
            self.duplicates += 1
            return
        trade = build_trade(self.inst, tid, x.E, x.T, x.p, x.q, x.m, recv_ns)
        if self._slow(trade, out):
            self.opened.append(self)

    def _slow(self, trade: Trade, out: list[Record]) -> bool:
        tid = trade.trade_id
        if self.held is not None:
            if not self.held or tid > self.held[-1].trade_id:
                self.held.append(trade)
            elif any(h.trade_id == tid for h in self.held):
                self.duplicates += 1
            else:  # reordered while held: keep the held list sorted
                self.held.append(trade)
                self.held.sort(key=lambda t: t.trade_id)
            if len(self.held) > _MAX_HELD and self.gap is not None:
                self.held = self.held[-_MAX_HELD:]
            return False
        if self.next_id is None:
            if self.floor_id is None or tid <= self.floor_id:
                out.append(trade)  # the first trade (no anchor, or at the anchor)
                self.next_id = tid + 1
                return False
            self.next_id = self.floor_id  # ids floor_id..tid-1 are missing
        # tid > next_id: ids next_id..tid-1 are missing.
        self.gap = (self.next_id, tid - 1)
        self.gaps += 1
        self.held = [trade]
        return True

    def backfilled(self, trades: list[Trade], recv_ns: int, out: list[Record]) -> bool:
        """Deliver a finished backfill of ``self.gap``: in id order, REST's trades and the
        held ones that fall inside the gap (a live frame wins over its REST copy), a Gap
        for every range neither covers, then the held trades after the gap. True if
        those opened a new gap (``self.gap`` holds it)."""
        assert self.gap is not None
        assert self.held is not None
        first, last = self.gap
        inside = {t.trade_id: t for t in trades if first <= t.trade_id <= last}
        after: list[Trade] = []
        for t in self.held:
            if first <= t.trade_id <= last:
                inside[t.trade_id] = t
            else:
                after.append(t)
        expected = first
        for tid in sorted(inside):
            if tid > expected:
                out.append(self._gap_event(expected, tid - 1, recv_ns))
            out.append(inside[tid])
            expected = tid + 1
        if expected <= last:
            out.append(self._gap_event(expected, last, recv_ns))
        self.next_id = last + 1
        self.held, self.gap = None, None
        opened = False
        for t in after:
            if opened:
                assert self.held is not None
                self.held.append(t)
            else:
                opened = self._feed(t, out)
        return opened

    def _feed(self, trade: Trade, out: list[Record]) -> bool:
        tid = trade.trade_id
        if self.next_id is not None and tid < self.next_id:
            self.duplicates += 1
            return False
        if tid == self.next_id:
            out.append(trade)
            self.next_id = tid + 1
            return False
        return self._slow(trade, out)

    def _gap_event(self, lo: int, hi: int, recv_ns: int) -> Gap:
        return Gap(
            instrument=self.inst,
            receive_time_ns=recv_ns,
            stream=self.stream,
            first_missing=lo,
            last_missing=hi,
            reason="trades not available from REST backfill",
        )
