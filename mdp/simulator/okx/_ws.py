"""One OKX v5 public WebSocket connection: ``op`` subscribe/unsubscribe with acks and
error events, the text ``ping``/``pong``, the idle close, the ``64008`` notice, the
per-connection operation limit, faults, and the batched send path.

The hot path is the Binance simulator's (:mod:`mdp.simulator._ws`): batches from the hub
on a bounded channel, frames filtered by the connection's channels and framed inline
with :func:`~mdp.simulator._ws.frame_header`, one ``send_all`` per batch. What differs is
the protocol, so it is its own class rather than a subclass.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import TYPE_CHECKING, Any

import orjson
import trio
from wsproto import WSConnection
from wsproto.events import CloseConnection, Message, Ping

from mdp.simulator._faults import FrameFaults
from mdp.simulator._ws import frame_header
from mdp.simulator.okx._inject import apply_to
from mdp.simulator.okx._market import Frame, channel_key

if TYPE_CHECKING:
    from mdp.simulator.okx._hub import OkxHub

__all__ = ["OkxConnection"]

_ids = itertools.count(0xA4D3AE55)
_MAX_REQUEST = 65536  # OKX: subscription arguments may total at most 64 KB
_INST_CHANNELS = ("trades", "books", "bbo-tbt", "funding-rate")
NOTICE_64008 = "The connection will soon be closed for a service upgrade. Please reconnect."


class OkxConnection:
    """Created after the handshake; :meth:`run` serves it until it ends."""

    def __init__(self, hub: OkxHub, stream: trio.SocketStream, ws: WSConnection) -> None:
        self.id = next(_ids)
        self.conn_id = f"{self.id:08x}"
        self.hub = hub
        self.config = hub.config
        self.stream = stream
        self.ws = ws
        self.subs: dict[str, None] = {}  # channel keys, ordered
        self.delivered: frozenset[str] = frozenset()
        self._send, self._recv = trio.open_memory_channel[list[Frame]](self.config.send_queue)
        self._lock = trio.StrictFIFOLock()
        self.faults = FrameFaults()
        self.opened = trio.current_time()
        self.last_traffic = self.opened
        self.stalled_until = 0.0
        self.frames_sent = 0
        self.close_reason = ""
        self._abrupt = False
        self._ops: deque[float] = deque()
        self._scope = trio.CancelScope(deadline=self.opened + hub.max_connection_s)
        self._nursery: trio.Nursery | None = None

    # -- called by the hub and the fault injector ---------------------------------------

    def post(self, batch: list[Frame]) -> None:
        if self.close_reason:
            return
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
        """Silent for ``seconds``: no pushes and no pongs."""
        self.stalled_until = trio.current_time() + seconds

    def maintenance(self, grace: float) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(self._notice, grace)

    def _stalled(self) -> bool:
        if self.stalled_until and trio.current_time() < self.stalled_until:
            return True
        self.stalled_until = 0.0
        return False

    # -- tasks --------------------------------------------------------------------------

    async def run(self) -> None:
        self.hub.register(self)
        try:
            with self._scope:
                async with trio.open_nursery() as nursery:
                    self._nursery = nursery
                    nursery.start_soon(self._reader)
                    nursery.start_soon(self._writer)
                    nursery.start_soon(self._idle_watch)
                    pending = self.hub.pending_faults
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
                    data = self.ws.send(CloseConnection(code=1000, reason=self.close_reason[:100]))
                    await self.stream.send_all(data)
                    while await self.stream.receive_some(65536):
                        pass  # until the client answered and hung up (bounded above)
            except (trio.BrokenResourceError, trio.ClosedResourceError, trio.BusyResourceError):
                pass
            except Exception:  # wsproto refuses a close in a state it does not expect
                pass
        await trio.aclose_forcefully(self.stream)

    async def send_text(self, payload: bytes) -> None:
        async with self._lock:
            await self.stream.send_all(frame_header(len(payload)) + payload)
        self.last_traffic = trio.current_time()

    async def _writer(self) -> None:
        recv = self._recv
        try:
            async for batch in recv:
                batches = [batch]
                while True:
                    try:
                        batches.append(recv.receive_nowait())
                    except trio.WouldBlock:
                        break
                if self._stalled():
                    continue
                delivered = self.delivered
                frames = [f for b in batches for f in b if f[0] in delivered]
                if not frames:
                    continue
                if self.faults:
                    frames = self.faults.apply(frames)
                parts: list[bytes] = []
                for _, payload in frames:
                    parts.append(frame_header(len(payload)))
                    parts.append(payload)
                async with self._lock:
                    await self.stream.send_all(b"".join(parts))
                self.last_traffic = trio.current_time()
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
                            self.last_traffic = trio.current_time()
                            await self._on_message("".join(text))
                            text.clear()
                    elif isinstance(event, Ping):  # OKX pings are text, but be polite
                        async with self._lock:
                            await self.stream.send_all(self.ws.send(event.response()))
                    elif isinstance(event, CloseConnection):
                        async with self._lock:
                            await self.stream.send_all(self.ws.send(event.response()))
                        self.kill("peer closed", abrupt=True)
                        return
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.kill("peer went away", abrupt=True)

    async def _idle_watch(self) -> None:
        """OKX closes a connection with no traffic for 30 s (``idle_timeout_s``)."""
        timeout = self.config.idle_timeout_s
        while True:
            await trio.sleep_until(self.last_traffic + timeout)
            if trio.current_time() - self.last_traffic >= timeout:
                self.kill(f"no traffic for {timeout:g} s")
                return

    async def _notice(self, grace: float) -> None:
        await self.send_text(
            orjson.dumps(
                {"event": "notice", "code": "64008", "msg": NOTICE_64008, "connId": self.conn_id}
            )
        )
        await trio.sleep(grace)
        self.kill("service upgrade")

    # -- the op protocol ----------------------------------------------------------------

    def _error(self, code: str, msg: str, id_: Any = None) -> bytes:
        body: dict[str, Any] = {"event": "error", "code": code, "msg": msg, "connId": self.conn_id}
        if id_ is not None:
            body = {"id": id_, **body}
        return orjson.dumps(body)

    async def _on_message(self, text: str) -> None:
        if text == "ping":
            if not self._stalled():
                await self.send_text(b"pong")
            return
        try:
            request = orjson.loads(text)
        except orjson.JSONDecodeError:
            await self.send_text(self._error("60012", f"Invalid request: {text[:100]}"))
            return
        if not isinstance(request, dict) or request.get("op") not in ("subscribe", "unsubscribe"):
            await self.send_text(self._error("60012", f"Invalid request: {text[:100]}"))
            return
        id_ = request.get("id")
        args = request.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(a, dict) for a in args):
            await self.send_text(self._error("60012", f"Invalid request: {text[:100]}", id_))
            return
        now = trio.current_time()
        ops = self._ops
        while ops and ops[0] <= now - self.config.ops_window_s:
            ops.popleft()
        if len(ops) >= self.config.max_ops_per_hour:
            self.hub.stats["ops_refused"] += 1
            await self.send_text(self._error("60014", "Requests too frequent.", id_))
            return
        ops.append(now)
        for arg in args:
            await self._one(request["op"], arg, id_)
        if self.subs:
            self.hub.first_subscription.set()  # every argument of the op is in place

    def _key(self, arg: dict[str, Any]) -> str | None:
        """The channel key of a valid argument, None if the channel or instrument does
        not exist (OKX 60018)."""
        channel = arg.get("channel")
        markets = self.hub.markets
        if channel == "liquidation-orders":
            return channel_key(channel, "SWAP") if arg.get("instType") == "SWAP" else None
        inst_id = arg.get("instId")
        if channel not in _INST_CHANNELS or inst_id not in markets:
            return None
        if channel == "funding-rate" and not markets[inst_id].inst.swap:
            return None
        return channel_key(channel, inst_id)

    async def _one(self, op: str, arg: dict[str, Any], id_: Any) -> None:
        key = self._key(arg)
        if key is None:
            where = arg.get("instId", arg.get("instType", ""))
            msg = (
                f"Wrong URL or channel:{arg.get('channel')},instId:{where} doesn't exist. "
                "Please use the correct URL, channel and parameters referring to API document."
            )
            self.hub.stats["subscribe_errors"] += 1
            await self.send_text(self._error("60018", msg, id_))
            return
        ack: dict[str, Any] = {"event": op, "arg": arg, "connId": self.conn_id}
        if id_ is not None:
            ack = {"id": id_, **ack}
        new = op == "subscribe" and key not in self.subs
        if op == "subscribe":
            self.subs[key] = None
        else:
            self.subs.pop(key, None)
        # Under the send lock and without a checkpoint until the ack is on its way: the hub
        # renders the channel from its next tick on (mark_dirty), the first push is queued
        # behind nothing it should follow, and the ack still goes out before it.
        async with self._lock:
            self.delivered = frozenset(self.subs)
            self.hub.mark_dirty()
            if new:
                self._first_push(key)
            payload = orjson.dumps(ack)
            await self.stream.send_all(frame_header(len(payload)) + payload)
        self.last_traffic = trio.current_time()

    def _first_push(self, key: str) -> None:
        """What OKX sends right after a subscription: the ``books`` snapshot (continued
        exactly by the next update on this connection's queue), and for liquidations a
        replay of recent, old data."""
        hub = self.hub
        channel, _, arg = key.partition(":")
        if channel == "books" and self.config.book_snapshot:
            market = hub.markets[arg]
            self.post([(key, market.push(key, [market.snapshot_row()], "snapshot"))])
        elif channel == "liquidation-orders" and hub.recent_liquidations:
            body = {
                "arg": {"channel": channel, "instType": arg},
                "data": list(hub.recent_liquidations),
            }
            self.post([(key, orjson.dumps(body))])
