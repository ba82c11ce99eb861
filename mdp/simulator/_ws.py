"""One WebSocket client connection: subscriptions, pings, faults and the hot send path.

wsproto does the handshake, parses what the client sends and frames the control frames
(ping, pong, close). Data frames are framed here: a server-to-client text frame is a
2–10 byte header in front of the payload (RFC 6455 §5.2, never masked), and building it
inline costs ~0.3 µs where ``wsproto.send(TextMessage)`` costs ~6.5 µs per frame on this
machine (it also insists on ``str``, forcing a decode/encode of every orjson payload) —
the difference between ~40k and >200k frames/s on one core. trio-websocket adds a task
hand-off and a ``send_all`` per message on top of wsproto, so it is not used here.

Batches from the hub arrive on a bounded channel; a client too slow to drain it is cut off
(``send_queue`` batches), so a slow reader never grows the simulator's memory.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import orjson
import trio
from wsproto import WSConnection
from wsproto.events import CloseConnection, Message, Ping, Pong

from mdp.simulator._faults import FrameFaults
from mdp.simulator._inject import apply_to
from mdp.simulator._instruments import Market
from mdp.simulator._market import Frame
from mdp.simulator._streams import (
    Request,
    Route,
    delivers,
    in_microseconds,
    parse_request,
    reply_error,
)

if TYPE_CHECKING:
    from mdp.simulator._hub import Hub

__all__ = ["WsConnection", "frame_header"]

_SMALL_HEADERS = [bytes((0x81, n)) for n in range(126)]
_ids = itertools.count(1)
_MAX_REQUEST = 65536  # a client request is a few hundred bytes; bound what we buffer


def frame_header(length: int) -> bytes:
    """The header of an unmasked, final text frame carrying ``length`` bytes."""
    if length < 126:
        return _SMALL_HEADERS[length]
    if length < 65536:
        return b"\x81\x7e" + length.to_bytes(2, "big")
    return b"\x81\x7f" + length.to_bytes(8, "big")


class WsConnection:
    """Created by the server after the handshake; :meth:`run` serves it until it ends."""

    def __init__(
        self,
        hub: Hub,
        market: Market,
        stream: trio.SocketStream,
        ws: WSConnection,
        route: Route,
        streams: tuple[str, ...],
        combined: bool,
        microseconds: bool = False,
    ) -> None:
        self.id = next(_ids)
        self.hub = hub
        self.config = hub.config
        self.market = market
        self.stream = stream
        self.ws = ws
        self.route = route
        self.combined = combined
        self.microseconds = microseconds
        self.subs: dict[str, None] = dict.fromkeys(streams)  # ordered set
        self.delivered: frozenset[str] = frozenset()
        self._update_delivered()
        self._send, self._recv = trio.open_memory_channel[list[Frame]](self.config.send_queue)
        self._lock = trio.StrictFIFOLock()
        self.faults = FrameFaults()
        self.opened = trio.current_time()
        self.last_pong = self.opened
        self.stalled_until = 0.0
        self.frames_sent = 0
        self.close_reason = ""
        self._abrupt = False
        self._scope = trio.CancelScope(deadline=self.opened + hub.max_connection_s)
        self._nursery: trio.Nursery | None = None
        self._window = (0, 0)  # (second, messages received in it)
        self._last_ping = self.opened
        self._ping_payloads: list[bytes] = []

    # -- called by the hub and the fault injector (synchronous) -------------------------

    def post(self, batch: list[Frame]) -> None:
        if self.close_reason:
            return  # being closed: nothing more to send
        try:
            self._send.send_nowait(batch)
        except trio.WouldBlock:
            self.hub.stats["slow_disconnects"] += 1
            self.kill("slow client: send queue full", abrupt=True)

    def kill(self, reason: str, *, abrupt: bool = False) -> None:
        if not self.close_reason:
            self.close_reason = reason
            self._abrupt = abrupt
        self._scope.cancel()

    def set_lifetime(self, seconds: float) -> None:
        self._scope.deadline = self.opened + seconds

    def stall(self, seconds: float) -> None:
        self.stalled_until = trio.current_time() + seconds

    def server_shutdown(self, grace: float, event_ms: int) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(self._shutdown_notice, grace, event_ms)

    # -- the connection's tasks -----------------------------------------------------------

    async def run(self) -> None:
        self.hub.register(self)
        try:
            with self._scope:
                async with trio.open_nursery() as nursery:
                    self._nursery = nursery
                    nursery.start_soon(self._reader)
                    nursery.start_soon(self._writer)
                    nursery.start_soon(self._pinger)
                    pending = self.hub.pending_faults[self.market]
                    while pending:  # faults aimed at "the next connection"
                        apply_to(self.hub, self, pending.pop(0))
            if not self.close_reason:
                self.close_reason = "connection limit reached"
        finally:
            self._nursery = None
            self.hub.unregister(self)
            self.hub.close_reasons[self.close_reason or "server stopped"] += 1
            self._recv.close()
            self._send.close()
            await self._close()

    async def _close(self) -> None:
        with trio.move_on_after(0.5, shield=True):
            try:
                if not self._abrupt and self.ws.state.name == "OPEN":
                    reason = self.close_reason[:100]
                    data = self.ws.send(CloseConnection(code=1001, reason=reason))
                    await self.stream.send_all(data)
                    await self._await_close_reply()
            except (trio.BrokenResourceError, trio.ClosedResourceError, trio.BusyResourceError):
                pass
            except Exception:  # wsproto refuses a close in a state it does not expect
                pass
        await trio.aclose_forcefully(self.stream)

    async def _await_close_reply(self) -> None:
        """RFC 6455 §7.1.1: the server closes TCP once the client answered the close
        frame (bounded by the caller's timeout), so well-behaved clients close cleanly."""
        while True:
            data = await self.stream.receive_some(65536)
            if not data:
                return
            self.ws.receive_data(data)
            if any(isinstance(e, CloseConnection) for e in self.ws.events()):
                return

    async def send_bytes(self, data: bytes) -> None:
        async with self._lock:
            await self.stream.send_all(data)

    async def send_text(self, payload: bytes) -> None:
        await self.send_bytes(frame_header(len(payload)) + payload)

    async def _writer(self) -> None:
        prefixes = self.hub.prefixes
        recv = self._recv
        try:
            async for batch in recv:
                batches = [batch]
                while True:  # coalesce whatever is already queued into one send
                    try:
                        batches.append(recv.receive_nowait())
                    except trio.WouldBlock:
                        break
                if self.stalled_until:
                    if trio.current_time() < self.stalled_until:
                        continue
                    self.stalled_until = 0.0
                delivered = self.delivered
                frames = [f for b in batches for f in b if f[0] in delivered]
                if not frames:
                    continue
                if self.faults:
                    frames = self.faults.apply(frames)
                if self.microseconds:
                    frames = [(name, in_microseconds(payload)) for name, payload in frames]
                parts: list[bytes] = []
                if self.combined:
                    for name, payload in frames:
                        data = prefixes[name] + payload + b"}"
                        parts.append(frame_header(len(data)))
                        parts.append(data)
                else:
                    for _, payload in frames:
                        parts.append(frame_header(len(payload)))
                        parts.append(payload)
                await self.send_bytes(b"".join(parts))
                self.frames_sent += len(frames)
                self.hub.stats["frames_sent"] += len(frames)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.kill("peer went away", abrupt=True)

    async def _reader(self) -> None:
        text: list[str] = []
        try:
            while True:
                data = await self.stream.receive_some(65536)
                if not data:
                    self.kill("peer closed the socket", abrupt=True)
                    return
                self.ws.receive_data(data)
                for event in self.ws.events():
                    if isinstance(event, Message):
                        if isinstance(event.data, str):
                            text.append(event.data)
                            if sum(map(len, text)) > _MAX_REQUEST:
                                self.kill("request too large")
                                return
                        if event.message_finished:
                            await self._on_message("".join(text))
                            text.clear()
                    elif isinstance(event, Ping):
                        await self.send_bytes(self.ws.send(event.response()))
                    elif isinstance(event, Pong):
                        # Binance: the pong must carry the ping's payload; unsolicited
                        # pongs are allowed but do not prevent the disconnection.
                        if self._ping_payloads and bytes(event.payload) in self._ping_payloads:
                            self.last_pong = trio.current_time()
                            self._ping_payloads.clear()
                    elif isinstance(event, CloseConnection):
                        await self.send_bytes(self.ws.send(event.response()))
                        self.kill("peer closed", abrupt=True)
                        return
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.kill("peer went away", abrupt=True)

    async def _pinger(self) -> None:
        interval = self.config.ping_interval_s
        while True:
            await trio.sleep(min(interval, self.config.pong_timeout_s / 2))
            now = trio.current_time()
            if now - self.last_pong > self.config.pong_timeout_s:
                self.kill("no pong within the timeout")
                return
            if self.ws.state.name != "OPEN":
                return  # the client is closing: the reader finishes the handshake
            if now - self._last_ping >= interval and now >= self.stalled_until:
                self._last_ping = now
                payload = str(self.hub.now_ms(self.market)).encode()
                self._ping_payloads.append(payload)
                del self._ping_payloads[:-8]  # answers to the last few pings count
                await self.send_bytes(self.ws.send(Ping(payload=payload)))

    async def _shutdown_notice(self, grace: float, event_ms: int) -> None:
        data = orjson.dumps({"e": "serverShutdown", "E": event_ms})
        if self.microseconds:
            data = in_microseconds(data)
        if self.combined:
            data = b'{"stream":"!serverShutdown","data":' + data + b"}"
        await self.send_text(data)
        await trio.sleep(grace)
        self.kill("server shutdown")

    # -- the live-subscription protocol --------------------------------------------------

    async def _on_message(self, text: str) -> None:
        second = int(trio.current_time())
        start, count = self._window
        count = count + 1 if start == second else 1
        self._window = (second, count)
        if count > self.config.max_incoming_per_s:
            self.kill("too many incoming messages")
            return
        request = parse_request(text)
        if isinstance(request, bytes):
            await self.send_text(request)
            return
        await self.send_text(self._handle(request))

    def _handle(self, request: Request) -> bytes:
        result: Any = None
        if request.method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            known = self.hub.known[self.market]
            unknown = [s for s in request.params if s not in known]
            if unknown:
                return reply_error(2, f"Invalid request: unknown stream `{unknown[0]}`", request.id)
            if request.method == "SUBSCRIBE":
                if len(self.subs.keys() | set(request.params)) > self.config.max_streams:
                    return reply_error(2, "Invalid request: too many streams", request.id)
                self.subs.update(dict.fromkeys(request.params))
            else:
                for name in request.params:
                    self.subs.pop(name, None)
            self._update_delivered()
        elif request.method == "LIST_SUBSCRIPTIONS":
            result = list(self.subs)
        elif request.params[:1] != ["combined"]:
            return reply_error(0, "Unknown property", request.id)
        elif request.method == "SET_PROPERTY":
            value = request.params[1] if len(request.params) > 1 else None
            if not isinstance(value, bool):
                return reply_error(1, "Invalid value type: expected Boolean")
            self.combined = value
        else:
            result = self.combined
        return orjson.dumps({"result": result, "id": request.id})

    def _update_delivered(self) -> None:
        self.delivered = frozenset(s for s in self.subs if delivers(self.route, s))
        self.hub.mark_dirty()
