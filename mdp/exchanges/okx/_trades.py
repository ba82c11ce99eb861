"""Trade continuity by ``tradeId``/``count``, per instrument (sans-I/O).

OKX sends one ``trades`` message per taker order: ``tradeId`` is the *last* raw id of
its ``count`` fills, so a message covers ``tradeId − count + 1 … tradeId`` and the next
one must start at ``tradeId + 1``. One record per message, ``trade_id`` = ``tradeId``.
A message that starts later opens a gap over the raw ids in between: it is filled from
``market/history-trades`` and, until then, later messages are held back so downstream
sees trade ids in order (backfilled ones flagged ``backfilled``). A message at or below
the last ``tradeId`` is a duplicate (a resent frame, the overlap of a rollover). What REST
cannot give becomes a :class:`~mdp.model.Gap` over the exact raw ids missing.
"""

from __future__ import annotations

from typing import Any

from mdp.exchanges.okx._parse import Sizes, TradeRow, trade_rows
from mdp.model import PERFECT, Gap, Instrument, Quality, QualityLevel, Reason, Record, Side, Trade
from mdp.model import _records as _r
from mdp.model._numbers import wire_decimals

__all__ = ["BACKFILLED", "TradeTracker"]

_new = object.__new__
_fields = _r._TradeFields
_decimal = wire_decimals.__getitem__
_SELL, _BUY = Side.SELL, Side.BUY
_MAX_HELD = 1_000_000
BACKFILLED = Quality(QualityLevel.PERFECT, (Reason.BACKFILLED.value,))


class _Held:
    """A trade waiting behind a backfill, with the first raw id it covers."""

    __slots__ = ("first", "trade")

    def __init__(self, first: int, trade: Trade) -> None:
        self.first, self.trade = first, trade


class TradeTracker:
    """``next_id`` is the raw id the next message must start at (None before the first)."""

    def __init__(
        self, inst: Instrument, sizes: Sizes, stream: str, gaps: list[TradeTracker]
    ) -> None:
        self.inst = inst
        self.sizes = sizes
        self._size = sizes.of
        self.stream = stream
        self.opened = gaps
        self.next_id: int | None = None
        # The first raw id this tracker answers for, from REST before its first
        # subscription (StreamGroup anchors it): a first message that starts later opens a
        # gap, so trades missed by a connection lost before its first message are
        # backfilled, not skipped.
        self.floor_id: int | None = None
        self.held: list[_Held] | None = None  # not None while a backfill is in flight
        # The held trades' ids: a duplicate (a resent frame, a rollover's overlap) is found
        # in constant time. Scanning the list instead made every message cost as much as
        # the backlog behind a long backfill: under load the group then read too slowly,
        # was cut off as a slow client, and the next gap was longer still.
        self._held_ids: set[int] = set()
        self.gap: tuple[int, int] | None = None
        self.duplicates = 0
        self.gaps = 0

    def build(self, row: TradeRow, recv_ns: int, quality: Quality = PERFECT) -> Trade:
        tid = row.tradeId
        o: Any = _new(_fields)  # the private mutable twin, then a Trade (see binance/_parse)
        o.instrument = self.inst
        o.receive_time_ns = recv_ns
        o.exchange_time_ns = None
        o.match_time_ns = row.ts * 1_000_000
        o.sequence = tid
        o.quality = quality
        o.extra = ()
        o.trade_id = tid
        o.price = _decimal(row.px)
        o.size = self._size(row.sz)
        o.side = _BUY if row.side == "buy" else _SELL
        o.__class__ = Trade
        trade: Trade = o
        return trade

    def on_payload(self, raw: Any, action: str, recv_ns: int, out: list[Record]) -> None:
        """The stream's handler (``action`` is unused: trades have none)."""
        for row in trade_rows.decode(raw):
            tid = row.tradeId
            first = tid - (row.count or 1) + 1
            nxt = self.next_id
            if first == nxt and self.held is None:  # the hot path
                out.append(self.build(row, recv_ns))
                self.next_id = tid + 1
            elif nxt is not None and tid < nxt:
                self.duplicates += 1
            elif self._slow(first, self.build(row, recv_ns), out):
                self.opened.append(self)

    def _slow(self, first: int, trade: Trade, out: list[Record]) -> bool:
        if self.held is not None:
            held, ids = self.held, self._held_ids
            if trade.trade_id in ids:
                self.duplicates += 1
                return False
            held.append(_Held(first, trade))
            ids.add(trade.trade_id)
            if len(held) > 1 and trade.trade_id < held[-2].trade.trade_id:
                held.sort(key=lambda h: h.trade.trade_id)  # reordered while held
            if len(held) > _MAX_HELD:
                for h in held[:-_MAX_HELD]:
                    ids.discard(h.trade.trade_id)
                del held[:-_MAX_HELD]
            return False
        if self.next_id is None and self.floor_id is not None and first > self.floor_id:
            self.next_id = self.floor_id  # raw ids floor_id..first-1 are missing
        if self.next_id is None or first <= self.next_id:
            out.append(trade)  # the first message, or one overlapping the last (trust it)
            self.next_id = trade.trade_id + 1
            return False
        self.gap = (self.next_id, first - 1)
        self.gaps += 1
        self.held = [_Held(first, trade)]
        self._held_ids = {trade.trade_id}
        return True

    def backfilled(self, rows: list[TradeRow], recv_ns: int, out: list[Record]) -> bool:
        """Deliver a finished backfill of ``self.gap``: REST's messages and the held ones
        inside it in id order (a live frame wins over its REST copy), a Gap for every
        raw-id range neither covers, then the held messages after the gap. True if those
        opened a new gap."""
        assert self.gap is not None
        assert self.held is not None
        lo, hi = self.gap
        inside: dict[int, tuple[int | None, Trade]] = {}
        for row in rows:
            tid = row.tradeId
            if lo <= tid <= hi:
                first = tid - row.count + 1 if row.count else None
                inside[tid] = (first, self.build(row, recv_ns, BACKFILLED))
        after: list[_Held] = []
        for h in self.held:
            if lo <= h.trade.trade_id <= hi:
                inside[h.trade.trade_id] = (h.first, h.trade)
            else:
                after.append(h)
        expected = lo
        for tid in sorted(inside):
            first, trade = inside[tid]
            if first is not None and first > expected:
                out.append(self._gap_event(expected, first - 1, recv_ns))
            out.append(trade)
            expected = tid + 1
        if expected <= hi:
            out.append(self._gap_event(expected, hi, recv_ns))
        self.next_id = hi + 1
        self.held, self.gap = None, None
        self._held_ids = set()
        for i, h in enumerate(after):
            tid = h.trade.trade_id
            if tid < self.next_id:
                self.duplicates += 1
            elif h.first == self.next_id:
                out.append(h.trade)
                self.next_id = tid + 1
            elif self._slow(h.first, h.trade, out):
                assert self.held is not None
                rest = after[i + 1 :]
                self.held += rest
                self._held_ids.update(r.trade.trade_id for r in rest)
                return True
        return False

    def _gap_event(self, lo: int, hi: int, recv_ns: int) -> Gap:
        return Gap(
            instrument=self.inst,
            receive_time_ns=recv_ns,
            stream=self.stream,
            first_missing=lo,
            last_missing=hi,
            reason="trades not available from REST backfill",
        )
