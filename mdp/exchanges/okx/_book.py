"""Order-book sync for OKX ``books`` by ``prevSeqId``/``seqId`` (sans-I/O; the rules are
in shared/reference/exchange-wire-formats.md, OKX section).

Live, an update applies when its ``prevSeqId`` is the local ``seqId``. Two cases look
like breaks and are not: a *heartbeat* (no levels, ``prevSeqId == seqId``) only proves
the stream alive, and a *reset* (``seqId < prevSeqId``, maintenance) is applied like any
update and sequencing goes on from its ``seqId``. An update already applied (a resent
frame, the other connection of a rollover; recognised by its ``(prevSeqId, seqId)`` pair,
which stays unique across resets) is ignored. Anything else is a gap.

After applying, a non-zero ``checksum`` is checked against the legacy CRC32 of the book
built from the original strings; 0 (what OKX sends since 23 Jun 2026) means absent. A
gap, a crossed book or a checksum mismatch publishes a :class:`Gap`, leaves the book
consumers hold as it was, and resyncs from ``market/books`` joined by ``seqId``: drop the
buffered updates the snapshot covers, the first one left must satisfy ``prevSeqId <=
snapshot.seqId < seqId``. That join is also the REST bootstrap (``book_bootstrap =
"rest"``, for when OKX stops sending the WS snapshot); the WS bootstrap takes the
``snapshot`` push a subscription starts with.

Sizes of a SWAP are published in base units (``ctVal``); the book keeps the wire strings.
"""

from __future__ import annotations

import heapq
from collections import deque
from decimal import Decimal
from typing import Any

from mdp.exchanges.okx._checksum import checksum
from mdp.exchanges.okx._parse import BookEvent, Sizes, levels
from mdp.model import BookDelta, BookSnapshot, Gap, Instrument, Record, Resync
from mdp.model._numbers import wire_decimals

__all__ = ["BookSync"]

_decimal = wire_decimals.__getitem__
Side = dict[Decimal, tuple[str, str]]  # price → (price string, size string)
_RECENT = 64


class BookSync:
    """One instrument's book. ``need_snapshot`` asks the caller for ``market/books``."""

    def __init__(self, inst: Instrument, sizes: Sizes, stream: str, rest_bootstrap: bool) -> None:
        self.inst = inst
        self.sizes = sizes
        self.stream = stream
        self.rest_bootstrap = rest_bootstrap
        self.bids: Side = {}
        self.asks: Side = {}
        self.local: int | None = None
        self.live = False
        self.need_snapshot = False  # set once there is something to join a snapshot to
        self.buffer: list[BookEvent] = []
        self.recent: deque[tuple[int, int]] = deque(maxlen=_RECENT)
        self.heartbeats = 0
        self.resets = 0
        self.checksums = 0  # verified
        self.gaps = 0
        self.resyncs = 0
        self._old: int | None = None

    # -- events ---------------------------------------------------------------------

    def on_event(self, ev: BookEvent, out: list[Record]) -> None:
        if ev.snapshot:
            if not self.live and not self.rest_bootstrap:
                self._install(ev.bids, ev.asks, ev.seq, ev.ts_ns, ev.recv_ns, ev.checksum, out)
            return  # live already (a rollover's new connection), or bootstrapping by REST
        if not self.live:
            if ev.reset:
                self.buffer.clear()  # what came before the reset cannot join a newer snapshot
            self.buffer.append(ev)
            if len(self.buffer) > 10_000:
                del self.buffer[:-1000]
            if self.rest_bootstrap or self._old is not None or len(self.buffer) >= 3:
                self.need_snapshot = True  # (ws: no snapshot push came; join a REST one)
            return
        local = self.local
        if ev.prev != local:
            if (ev.prev, ev.seq) in self.recent or (not ev.reset and ev.seq <= (local or 0)):
                return  # applied already
            self._gap(ev, "seqId not contiguous", out)
            return
        if ev.heartbeat:
            self.heartbeats += 1
            if ev.checksum and not self._checksum_ok(ev.checksum):
                self._gap(ev, "checksum mismatch on a heartbeat", out)
            return
        self._apply(ev, out)

    def _apply(self, ev: BookEvent, out: list[Record]) -> None:
        undo = self._set(ev)
        reason = ""
        if self._crossed():
            reason = "crossed book"
        elif ev.checksum:
            if self._checksum_ok(ev.checksum):
                self.checksums += 1
            else:
                reason = "checksum mismatch"
        if reason:
            for side, price, old in undo:  # consumers never see the bad book
                if old is None:
                    side.pop(price, None)
                else:
                    side[price] = old
            self._gap(ev, reason, out)
            return
        if ev.reset:
            self.resets += 1
        prev = self.local
        self.local = ev.seq
        self.recent.append((ev.prev, ev.seq))
        sizes = self.sizes
        out.append(
            BookDelta(
                instrument=self.inst,
                receive_time_ns=ev.recv_ns,
                exchange_time_ns=ev.ts_ns,
                sequence=ev.seq,
                first_update_id=ev.seq if ev.reset else ev.prev + 1,
                final_update_id=ev.seq,
                prev_final_update_id=prev,
                bids=levels(ev.bids, sizes),
                asks=levels(ev.asks, sizes),
                checksum=ev.checksum or None,
            )
        )

    def _set(self, ev: BookEvent) -> list[tuple[Side, Decimal, tuple[str, str] | None]]:
        undo: list[tuple[Side, Decimal, tuple[str, str] | None]] = []
        for side, changes in ((self.bids, ev.bids), (self.asks, ev.asks)):
            for level in changes:
                price = _decimal(level[0])
                undo.append((side, price, side.get(price)))
                if _decimal(level[1]):
                    side[price] = (level[0], level[1])
                else:
                    side.pop(price, None)
        undo.reverse()
        return undo

    def _crossed(self) -> bool:
        return bool(self.bids and self.asks) and max(self.bids) >= min(self.asks)

    def _checksum_ok(self, expected: int) -> bool:
        bids, asks = self.bids, self.asks
        top_bids = [bids[p] for p in heapq.nlargest(25, bids)]
        top_asks = [asks[p] for p in heapq.nsmallest(25, asks)]
        return checksum(top_bids, top_asks) == expected

    def _gap(self, ev: BookEvent, reason: str, out: list[Record]) -> None:
        local = self.local or 0
        self.gaps += 1
        out.append(
            Gap(
                instrument=self.inst,
                receive_time_ns=ev.recv_ns,
                stream=self.stream,
                first_missing=local + 1,
                last_missing=max(local + 1, ev.prev),
                reason=reason,
            )
        )
        self._old = self.local
        self.live = False
        self.need_snapshot = True
        self.buffer = [ev]

    def reset(self) -> None:
        """The connection carrying the stream is gone: start over on the next one (the
        book consumers hold stays theirs until a snapshot is installed)."""
        if self.live:
            self._old = self.local
        self.live = False
        self.need_snapshot = False
        self.buffer.clear()

    # -- snapshots --------------------------------------------------------------------

    def on_rest_snapshot(self, body: dict[str, Any], recv_ns: int, out: list[Record]) -> None:
        """Join ``market/books``'s ``data[0]`` with the buffered updates; sets
        ``need_snapshot`` again when it cannot (older than the buffer, or not bridged)."""
        if self.live:
            return
        snap = int(body["seqId"])
        buffered = self.buffer
        if buffered and buffered[0].reset and snap != buffered[0].prev:
            buffered = buffered[1:]  # taken after the reset (or too old: refused below)
        if not buffered or snap < buffered[0].prev:
            self.need_snapshot = True  # older than what the buffer starts from
            return
        keep = [ev for ev in buffered if ev.seq > snap or (ev.reset and ev.prev == snap)]
        if keep and not (keep[0].prev <= snap < keep[0].seq or keep[0].prev == snap):
            self.need_snapshot = True  # updates between the snapshot and the buffer are missing
            return
        self.buffer = []
        self._install(
            body["bids"], body["asks"], snap, int(body["ts"]) * 1_000_000, recv_ns, 0, out
        )
        for i, ev in enumerate(keep):
            if not self.live:
                self.buffer.append(ev)
            elif i == 0 and ev.prev < snap < ev.seq:
                self._apply(ev, out)  # the bridge: its changes from prevSeqId on, over the snapshot
            else:
                self.on_event(ev, out)

    def _install(
        self,
        bids: list[list[str]],
        asks: list[list[str]],
        seq: int,
        ts_ns: int,
        recv_ns: int,
        expected: int,
        out: list[Record],
    ) -> None:
        self.bids = {_decimal(lv[0]): (lv[0], lv[1]) for lv in bids}
        self.asks = {_decimal(lv[0]): (lv[0], lv[1]) for lv in asks}
        if expected and not self._checksum_ok(expected):
            self.need_snapshot = True  # a bad snapshot: take the REST one instead
            self.bids, self.asks = {}, {}
            return
        self.local = seq
        self.live = True
        self.need_snapshot = False
        self.recent.clear()
        if self._old is not None:
            self.resyncs += 1
            out.append(
                Resync(
                    instrument=self.inst,
                    receive_time_ns=recv_ns,
                    stream=self.stream,
                    reason="book rebuilt from a snapshot",
                    old_sequence=self._old,
                    new_sequence=seq,
                )
            )
        self._old = None
        sizes = self.sizes
        out.append(
            BookSnapshot(
                instrument=self.inst,
                receive_time_ns=recv_ns,
                exchange_time_ns=ts_ns,
                sequence=seq,
                last_update_id=seq,
                bids=tuple((p, sizes(s[1])) for p, s in sorted(self.bids.items(), reverse=True)),
                asks=tuple((p, sizes(s[1])) for p, s in sorted(self.asks.items())),
                checksum=expected or None,
            )
        )
