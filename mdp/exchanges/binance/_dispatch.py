"""One stream group's state and its hot loop: frames → records (sans-I/O).

:meth:`GroupState.process` takes every payload of one read, decodes the combined-stream
envelope (msgspec, ``data`` left raw), dispatches on the stream's name to a handler bound
at start-up (no per-frame lookups beyond one dict get, on a name msgspec hands back as the
dict's own key object), which decodes its own payload and appends records to one output
list. A group of trade streams only (all ``@trade`` or all
``@aggTrade``) decodes envelope and trade in one pass instead; a frame that does not decode
that way (a reply, a malformed frame) takes the general path, so it is judged the same.
Continuity state (trade trackers, book syncs) lives here, so both connections of a rollover
feed the same trackers and the overlap is dropped by id. Work that needs I/O (a backfill,
a snapshot) is only noted here, in ``backfills`` and ``snapshots``; the connection task
starts it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import orjson

from mdp.exchanges._ws import Payload
from mdp.exchanges.binance._book import BookSync
from mdp.exchanges.binance._config import StreamGroupArgs
from mdp.exchanges.binance._parse import (
    AggTradeMsg,
    DepthEvent,
    TradeMsg,
    build_bbo,
    build_liquidation,
    build_mark,
    envelope_decoder,
)
from mdp.exchanges.binance._trades import TradeTracker
from mdp.model import Instrument, Record

__all__ = ["GroupState"]

Handler = Callable[[Any, int, list[Record]], None]
_loads = orjson.loads
_JSONError = orjson.JSONDecodeError
_DecodeError = msgspec.DecodeError
_MS = 1_000_000
_ONE_PASS = {"trade": TradeMsg, "aggTrade": AggTradeMsg}


class GroupState:
    """Survives reconnects (and, kept in the worker's memo, restarts)."""

    def __init__(self, args: StreamGroupArgs, instruments: dict[str, Instrument]) -> None:
        self.args = args
        self.instruments = instruments
        self.trackers: dict[str, TradeTracker] = {}
        self.books: dict[str, BookSync] = {}
        self.handlers: dict[str, Handler] = {}
        self.stream_instrument: dict[str, Instrument] = {}
        self.backfills: list[TradeTracker] = []  # gaps opened in the last batch
        self.snapshots: list[BookSync] = []  # books that want a snapshot
        self.last_frame: dict[str, float] = {}  # stream → trio time of its newest frame
        self.malformed: list[tuple[Payload, Exception]] = []
        self.shutdown_notices = 0
        self.acks: set[int] = set()
        self.errors: list[dict[str, Any]] = []
        self.broken = False  # records were counted delivered but not sent: do not reuse
        for symbol in args.symbols:
            inst = instruments[symbol]
            for suffix in args.streams:
                name = f"{symbol.lower()}@{suffix}"
                self.stream_instrument[name] = inst
                self.handlers[name] = self._handler(name, suffix, inst)
        kinds = {suffix.split("@", 1)[0] for suffix in args.streams}
        self._envelope = envelope_decoder(list(self.handlers))
        self._decode = self._envelope
        if len(kinds) == 1 and (kind := kinds.pop()) in _ONE_PASS:
            # TradeTracker.on_payload takes the decoded trade as well as the raw one.
            self._decode = envelope_decoder(list(self.handlers), _ONE_PASS[kind])

    def _handler(self, name: str, suffix: str, inst: Instrument) -> Handler:
        kind = suffix.split("@", 1)[0]
        if kind in ("trade", "aggTrade"):
            id_key = "t" if kind == "trade" else "a"
            tracker = TradeTracker(inst, name, id_key, self.backfills)
            self.trackers[name] = tracker
            return tracker.on_payload
        if kind == "depth":
            book = self.books[name] = BookSync(inst, name, self.args.futures)
            snapshots = self.snapshots

            def depth(raw: Any, recv_ns: int, out: list[Record]) -> None:
                book.on_event(DepthEvent(_loads(memoryview(raw)), recv_ns), out)
                if book.need_snapshot:
                    snapshots.append(book)

            return depth
        if kind == "bookTicker":
            return lambda raw, recv_ns, out: out.append(
                build_bbo(inst, _loads(memoryview(raw)), recv_ns)
            )
        if kind == "markPrice":
            return lambda raw, recv_ns, out: out.extend(
                build_mark(inst, _loads(memoryview(raw)), recv_ns)
            )
        return lambda raw, recv_ns, out: out.append(
            build_liquidation(inst, _loads(memoryview(raw)), recv_ns)
        )

    def process(
        self, payloads: list[Payload], recv_ns: int, now: float, out: list[Record]
    ) -> dict[str, int]:
        """Parse one read's frames into ``out``; returns frames per stream (for metrics
        and liveness). Bad frames are collected in ``malformed``, never raised."""
        counts: dict[str, int] = {}
        self._parse(payloads, self._decode, recv_ns, out, counts)
        last = self.last_frame
        for stream in counts:
            last[stream] = now
        return counts

    def _parse(
        self,
        payloads: list[Payload],
        decode: Callable[[Payload], Any],
        recv_ns: int,
        out: list[Record],
        counts: dict[str, int],
    ) -> None:
        handlers = self.handlers
        for raw in payloads:
            try:
                env = decode(raw)
                stream = env.stream
                handler = handlers[stream]
            except (_DecodeError, KeyError):
                if decode is self._envelope:
                    self._control(raw)
                else:  # not a whole trade frame of ours: judged as in any other group
                    self._parse([raw], self._envelope, recv_ns, out, counts)
                continue
            try:
                handler(env.data, recv_ns, out)
            except (_DecodeError, _JSONError, KeyError, TypeError, ValueError) as exc:
                self.malformed.append((raw, exc))
                continue
            counts[stream] = counts.get(stream, 0) + 1

    def _control(self, raw: Payload) -> None:
        """Not a data frame of ours: a reply, an error, ``serverShutdown`` or garbage."""
        try:
            msg = _loads(raw)
        except _JSONError as exc:
            self.malformed.append((raw, exc))
            return
        if isinstance(msg, dict):
            if msg.get("stream") == "!serverShutdown" or msg.get("e") == "serverShutdown":
                self.shutdown_notices += 1
                return
            if "result" in msg and isinstance(msg.get("id"), int):
                self.acks.add(msg["id"])
                return
            if "code" in msg and "msg" in msg:
                self.errors.append(msg)
                return
        self.malformed.append((raw, ValueError(f"not a frame of this group's streams: {msg!r}")))

    def lag_ns(self, out: list[Record], recv_ns: int) -> int | None:
        """The newest record's exchange→receive lag, one sample per batch."""
        for record in reversed(out):
            t = record.exchange_time_ns
            if t is not None:
                return recv_ns - t
        return None
