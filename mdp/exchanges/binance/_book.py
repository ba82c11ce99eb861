"""Order-book sync from depth diffs and REST snapshots, exactly per Binance's rules
(sans-I/O; see shared/reference/exchange-wire-formats.md).

Spot (rules as corrected 2025-11-12): buffer events, noting the first ``U``; fetch a
snapshot, again if its ``lastUpdateId`` is below that first ``U``; drop buffered events
with ``u <= lastUpdateId``; the first one left must bridge the snapshot,
``U <= lastUpdateId + 1 <= u`` (the doc's "``lastUpdateId`` inside ``[U;u]``", counting the
event that starts right after it); then per event: ``u <= local`` is ignored,
``U > local + 1`` is a gap, anything else is applied and ``local = u``.

USD-M futures: drop events with ``u < lastUpdateId``; the first must satisfy
``U <= lastUpdateId <= u`` (or ``pu == lastUpdateId``, as tardis-node accepts); after
that each event's ``pu`` must equal the previous ``u``. An event already covered
(``u <= local``, a duplicate or the overlap of a rollover) is ignored on both markets.

On a gap, or if applying an event would cross the book (a crossed book is a gap too), a
:class:`Gap` and later a :class:`Resync` are published, the diff is not, and the old
book stays what consumers hold until the new snapshot is bridged; then a
:class:`BookSnapshot` and the bridged diffs follow as :class:`BookDelta`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mdp.exchanges.binance._parse import DepthEvent, levels
from mdp.model import BookDelta, BookSnapshot, Gap, Instrument, Record, Resync

__all__ = ["BookSync"]

_MS = 1_000_000


class BookSync:
    """One symbol's book. ``live`` once a snapshot is bridged; ``need_snapshot`` tells the
    caller to fetch one (the caller clears it when the request is under way)."""

    def __init__(self, inst: Instrument, stream: str, futures: bool, max_buffer: int = 10_000):
        self.inst = inst
        self.stream = stream
        self.futures = futures
        self.max_buffer = max_buffer
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.local_id: int | None = None
        self.live = False
        self.need_snapshot = True
        self.buffer: list[DepthEvent] = []
        self.last_event_ns = 0
        self.gaps = 0
        self.resyncs = 0
        self._old_id: int | None = None  # the id of the book consumers still hold
        self._bridge = False  # live, but the bridging event is still to come

    # -- events -----------------------------------------------------------------------------

    def on_event(self, ev: DepthEvent, out: list[Record]) -> None:
        self.last_event_ns = ev.recv_ns
        if not self.live:
            if len(self.buffer) >= self.max_buffer:
                self.buffer.clear()  # the snapshot is far behind; start buffering again
            self.buffer.append(ev)
            return
        local = self.local_id
        assert local is not None
        if ev.last < local or (ev.last == local and not (self._bridge and self.futures)):
            return  # already applied: a duplicate or a rollover overlap
        if self._bridge:  # the first event after the snapshot
            if self.futures:
                broken = not (ev.first <= local <= ev.last or ev.prev == local)
            else:
                broken = ev.first > local + 1
        elif self.futures:
            broken = ev.prev != local
        else:
            broken = ev.first > local + 1
        if broken:
            self._gap(local + 1, ev.first - 1, ev.recv_ns, "update ids not contiguous", out)
            self.buffer.append(ev)
            return
        self._bridge = False
        self._apply(ev, out)

    def _apply(self, ev: DepthEvent, out: list[Record]) -> None:
        undo = self._set_levels(ev)
        if self._crossed():
            for side, price, qty in undo:  # consumers never see the crossed book
                if qty is None:
                    side.pop(price, None)
                else:
                    side[price] = qty
            local = self.local_id or 0
            self._gap(local + 1, ev.last, ev.recv_ns, "crossed book", out)
            return
        prev = self.local_id
        self.local_id = ev.last
        out.append(
            BookDelta(
                instrument=self.inst,
                receive_time_ns=ev.recv_ns,
                exchange_time_ns=ev.event_ns,
                match_time_ns=ev.match_ns,
                sequence=ev.last,
                first_update_id=ev.first,
                final_update_id=ev.last,
                prev_final_update_id=ev.prev if self.futures else prev,
                bids=ev.bids,
                asks=ev.asks,
            )
        )

    def _set_levels(
        self, ev: DepthEvent
    ) -> list[tuple[dict[Decimal, Decimal], Decimal, Decimal | None]]:
        undo: list[tuple[dict[Decimal, Decimal], Decimal, Decimal | None]] = []
        for side, changes in ((self.bids, ev.bids), (self.asks, ev.asks)):
            for price, qty in changes:
                undo.append((side, price, side.get(price)))
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)
        undo.reverse()
        return undo

    def _crossed(self) -> bool:
        return bool(self.bids and self.asks) and max(self.bids) >= min(self.asks)

    def _gap(self, lo: int, hi: int, recv_ns: int, reason: str, out: list[Record]) -> None:
        self.gaps += 1
        out.append(
            Gap(
                instrument=self.inst,
                receive_time_ns=recv_ns,
                stream=self.stream,
                first_missing=lo,
                last_missing=max(lo, hi),
                reason=reason,
            )
        )
        self._old_id = self.local_id
        self.live = False
        self.need_snapshot = True
        self.buffer.clear()

    def reset(self) -> None:
        """The connection carrying this stream is gone: buffer afresh (keeps the book
        consumers hold until the next snapshot bridges)."""
        if self.live:
            self._old_id = self.local_id
        self.live = False
        self.need_snapshot = True
        self.buffer.clear()

    # -- snapshots ---------------------------------------------------------------------------

    def on_snapshot(self, body: dict[str, Any], recv_ns: int, out: list[Record]) -> None:
        """Bridge a REST snapshot with the buffered events; sets ``need_snapshot`` again
        if this snapshot cannot be bridged (too old, or events missing after it)."""
        if self.live:
            return
        last_id: int = body["lastUpdateId"]
        buffered = self.buffer
        if not buffered or (not self.futures and last_id < buffered[0].first):
            self.need_snapshot = True  # spot rule 2: the snapshot is older than the first U
            return
        self.bids = dict(levels(body["bids"]))
        self.asks = dict(levels(body["asks"]))
        self.local_id = last_id
        self.live = True
        self._bridge = True
        self.buffer = []
        if self._old_id is not None:
            self.resyncs += 1
            out.append(
                Resync(
                    instrument=self.inst,
                    receive_time_ns=recv_ns,
                    stream=self.stream,
                    reason="book rebuilt from a REST snapshot",
                    old_sequence=self._old_id,
                    new_sequence=last_id,
                )
            )
        self._old_id = None
        e = body.get("E")
        out.append(
            BookSnapshot(
                instrument=self.inst,
                receive_time_ns=recv_ns,
                exchange_time_ns=None if e is None else e * _MS,
                sequence=last_id,
                last_update_id=last_id,
                bids=tuple(sorted(self.bids.items(), reverse=True)),
                asks=tuple(sorted(self.asks.items())),
            )
        )
        for ev in buffered:
            if self.live:
                self.on_event(ev, out)
            else:
                self.buffer.append(ev)  # a gap right after the snapshot: keep buffering
