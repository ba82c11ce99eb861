"""One OKX stream group's state and its hot loop: pushes → records (sans-I/O).

:meth:`GroupState.process` decodes each push's envelope (msgspec, ``data`` left raw),
finds the handler bound at start-up for its ``channel:instId`` (or ``:instType``) and
lets it append records to one output list. Everything else is a control message: an
``event`` (subscribe/unsubscribe acks, errors, the ``64008`` notice), ``pong``, or a
malformed frame (dead-lettered, never raised). Continuity state lives here, so both
connections of a rollover feed the same trackers and books.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import Any

import msgspec
import orjson

from mdp.exchanges._ws import Payload
from mdp.exchanges.okx._book import BookSync
from mdp.exchanges.okx._config import OkxStreamsArgs
from mdp.exchanges.okx._parse import (
    Sizes,
    book_events,
    build_bbo,
    build_funding,
    build_liquidations,
    push_decoder,
)
from mdp.exchanges.okx._trades import TradeTracker
from mdp.model import Instrument, Liquidation, Record

__all__ = ["ConnectionView", "GroupState"]

Handler = Callable[[Any, str, int, list[Record]], None]
_loads = orjson.loads
_DecodeError = msgspec.DecodeError
_PARSE_ERRORS = (msgspec.DecodeError, orjson.JSONDecodeError, KeyError, TypeError, ValueError)
_REFUSED_ARG = re.compile(r"channel:([\w-]+),instId:([\w-]*)")


class ConnectionView:
    """What the hot loop needs to know of the connection a batch came on: the streams
    whose next push is a replay of old data (``liquidation-orders`` after subscribing)."""

    def __init__(self, replaying: set[str]) -> None:
        self.replaying = replaying


class GroupState:
    """Survives reconnects (and, kept in the worker's memo, restarts)."""

    def __init__(
        self,
        args: OkxStreamsArgs,
        instruments: dict[str, Instrument],
        ct_vals: dict[str, Any],
    ) -> None:
        self.args = args
        self.trackers: dict[str, TradeTracker] = {}
        self.books: dict[str, BookSync] = {}
        self.handlers: dict[str, Handler] = {}
        self.stream_instrument: dict[str, Instrument] = {}
        self.backfills: list[TradeTracker] = []
        self.snapshots: list[BookSync] = []
        self.last_frame: dict[str, float] = {}
        self.malformed: list[tuple[Payload, Exception]] = []
        self.notices = 0  # 64008 service-upgrade notices seen
        self.acked: set[str] = set()
        self.refused: dict[str, str] = {}  # stream → OKX's error
        self.unmatched_errors: list[dict[str, Any]] = []
        self.skipped_replays = 0
        self.broken = False
        self._liq_seen: deque[tuple[Any, ...]] = deque(maxlen=4096)
        self._liq_keys: set[tuple[Any, ...]] = set()
        known = {s: (instruments[s], Sizes(ct_vals.get(s))) for s in args.symbols}
        self.sized = known
        for name, arg in args.subscription():
            channel = arg["channel"]
            inst = instruments[arg["instId"]] if "instId" in arg else instruments[args.symbols[0]]
            self.stream_instrument[name] = inst
            self.handlers[name] = self._handler(name, channel, arg.get("instId", ""))

    def _handler(self, name: str, channel: str, inst_id: str) -> Handler:
        if channel == "liquidation-orders":
            return self._liquidations
        inst, sizes = self.sized[inst_id]
        if channel == "trades":
            tracker = self.trackers[name] = TradeTracker(inst, sizes, name, self.backfills)
            return tracker.on_payload
        if channel == "books":
            book = self.books[name] = BookSync(
                inst, sizes, name, self.args.book_bootstrap == "rest"
            )
            snapshots = self.snapshots

            def books(raw: Any, action: str, recv_ns: int, out: list[Record]) -> None:
                for ev in book_events(raw, action, recv_ns):
                    book.on_event(ev, out)
                if book.need_snapshot:
                    snapshots.append(book)

            return books
        if channel == "bbo-tbt":
            return lambda raw, action, recv_ns, out: build_bbo(inst, sizes, raw, recv_ns, out)
        return lambda raw, action, recv_ns, out: build_funding(inst, raw, recv_ns, out)

    def _liquidations(self, raw: Any, action: str, recv_ns: int, out: list[Record]) -> None:
        """Liquidations have no id: the overlap of a rollover is dropped by content."""
        found: list[Record] = []
        build_liquidations(self.sized, raw, recv_ns, found)
        for record in found:
            assert isinstance(record, Liquidation)
            key = (record.instrument.native_symbol, record.exchange_time_ns, record.side,
                   record.price, record.size)  # fmt: skip
            if key in self._liq_keys:
                continue
            if len(self._liq_seen) == self._liq_seen.maxlen:
                self._liq_keys.discard(self._liq_seen[0])
            self._liq_seen.append(key)
            self._liq_keys.add(key)
            out.append(record)

    def process(
        self,
        payloads: list[Payload],
        recv_ns: int,
        now: float,
        out: list[Record],
        conn: ConnectionView,
    ) -> dict[str, int]:
        """Parse one read's frames into ``out``; returns frames per stream."""
        handlers = self.handlers
        decode = push_decoder.decode
        counts: dict[str, int] = {}
        for raw in payloads:
            try:
                push = decode(raw)
                arg = push.arg
                stream = f"{arg.channel}:{arg.instId or arg.instType}"
                handler = handlers[stream]
            except (_DecodeError, KeyError):
                self._control(raw)
                continue
            if stream in conn.replaying:  # the first push after subscribing: old data
                conn.replaying.discard(stream)
                self.skipped_replays += 1
            else:
                try:
                    handler(push.data, push.action, recv_ns, out)
                except _PARSE_ERRORS as exc:
                    self.malformed.append((raw, exc))
                    continue
            counts[stream] = counts.get(stream, 0) + 1
        last = self.last_frame
        for stream in counts:
            last[stream] = now
        return counts

    def _control(self, raw: Payload) -> None:
        if raw == b"pong":
            return
        try:
            msg = _loads(raw)
        except orjson.JSONDecodeError as exc:
            self.malformed.append((raw, exc))
            return
        event = msg.get("event") if isinstance(msg, dict) else None
        if event == "subscribe":
            arg = msg.get("arg", {})
            self.acked.add(f"{arg.get('channel')}:{arg.get('instId') or arg.get('instType')}")
        elif event == "error":
            self._refused(msg)
        elif event == "notice" and str(msg.get("code")) == "64008":
            self.notices += 1
        elif event in ("unsubscribe", "channel-conn-count"):
            pass
        else:
            self.malformed.append((raw, ValueError(f"not a push of this group: {msg!r}")))

    def _refused(self, msg: dict[str, Any]) -> None:
        text = f"{msg.get('code')}: {msg.get('msg')}"
        match = _REFUSED_ARG.search(str(msg.get("msg", "")))
        if match is not None:
            channel, where = match.groups()
            name = f"{channel}:{where}"
            if name in self.handlers:
                self.refused[name] = text
                return
        self.unmatched_errors.append(msg)

    def lag_ns(self, out: list[Record], recv_ns: int) -> int | None:
        for record in reversed(out):
            t = record.exchange_time_ns or record.match_time_ns
            if t is not None:
                return recv_ns - t
        return None
