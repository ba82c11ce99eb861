"""The collectors' WebSocket client: the ``websockets`` sans-I/O protocol driven from a
Trio stream, handing frames over in batches.

One ``receive_some`` of up to 64 KiB goes to the protocol in one ``receive_data``; every
complete frame in it comes back from :meth:`WsClient.receive_batch` as one list. There is
no reader task and no per-message hand-off (trio-websocket's hand-off alone costs ~12 µs a
frame); pings are answered inside the same call, as the protocol queues the pong in
``data_to_send``. ``bench/bench_collector.py --engines`` has the figures behind choosing
``websockets`` over wsproto and trio-websocket (docs/benchmarks.md ("Binance collector")).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence

import trio
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidHandshake, InvalidURI, ProtocolError
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from mdp._exceptions import ExchangeConnectionError

__all__ = ["Payload", "WsClient", "connect"]

Payload = bytes | bytearray | memoryview
"""A data frame's payload as the protocol hands it over (no copy); orjson takes all three."""

_READ = 65536
_TEXT, _BINARY, _CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONT


class WsClient:
    """An open WebSocket connection. Build it with :func:`connect`; one task receives."""

    def __init__(self, stream: trio.abc.Stream, protocol: ClientProtocol, url: str) -> None:
        self.stream = stream
        self.protocol = protocol
        self.url = url
        self.pings = 0
        self._parts: list[Payload] = []  # fragments of a message still incomplete
        self._pending: list[Payload] = []  # frames that arrived with the handshake response
        self._send_lock = trio.StrictFIFOLock()

    @property
    def open(self) -> bool:
        return self.protocol.state is State.OPEN

    async def _flush(self) -> None:
        out = self.protocol.data_to_send()
        if out:
            async with self._send_lock:
                for chunk in out:
                    if chunk:
                        await self.stream.send_all(chunk)
                    else:  # the protocol wants the TCP connection half-closed
                        await self.stream.aclose()
                        return

    async def receive_batch(self) -> list[Payload]:
        """The payloads of every complete data frame in the next read (at least one);
        :class:`ExchangeConnectionError` once the connection is closed, saying why."""
        if self._pending:
            batch, self._pending = self._pending, []
            return batch
        protocol, stream = self.protocol, self.stream
        while True:
            try:
                data = await stream.receive_some(_READ)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                raise ExchangeConnectionError(f"{self.url}: connection lost: {exc!r}") from None
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            frames = protocol.events_received()
            if protocol.writes:  # a pong, or the reply to a close
                await self._flush()
            batch = self._payloads(frames)
            if batch:
                return batch
            if not data or protocol.state is State.CLOSED:
                raise ExchangeConnectionError(f"{self.url}: closed: {self._close_reason()}")

    def _payloads(self, frames: Sequence[object]) -> list[Payload]:
        batch: list[Payload] = []
        parts = self._parts
        for frame in frames:
            if type(frame) is not Frame:
                continue
            opcode = frame.opcode
            if opcode is _TEXT or opcode is _BINARY or opcode is _CONT:
                if frame.fin and not parts:
                    batch.append(frame.data)
                else:
                    parts.append(frame.data)
                    if frame.fin:
                        batch.append(b"".join(parts))
                        parts.clear()
            elif opcode is Opcode.PING:
                self.pings += 1  # the protocol has queued the pong already
        return batch

    def _close_reason(self) -> str:
        rcvd = self.protocol.close_rcvd
        if rcvd is None:
            return "without a close frame"
        return f"code {rcvd.code} {rcvd.reason!r}"

    def _closed(self) -> bool:
        return self.protocol.state is State.CLOSED

    async def send_text(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        await self._flush()

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Close politely (bounded to 1 s, shielded), then drop the socket."""
        with trio.move_on_after(1.0, shield=True):
            try:
                if self.protocol.state is State.OPEN:
                    self.protocol.send_close(code, reason)
                    await self._flush()
                    while not self._closed():
                        data = await self.stream.receive_some(_READ)
                        if not data:
                            break
                        self.protocol.receive_data(data)
                        self.protocol.events_received()
                        await self._flush()
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError, ProtocolError):
                pass
        await trio.aclose_forcefully(self.stream)


async def connect(
    url: str, *, ssl_context: ssl.SSLContext | None = None, connect_timeout_s: float = 10.0
) -> WsClient:
    """Open ``ws://`` or ``wss://`` (TLS with ``ssl_context`` or the system default)."""
    try:
        uri = parse_uri(url)
    except InvalidURI as exc:
        raise ExchangeConnectionError(f"not a WebSocket URL: {url!r}: {exc}") from None
    protocol = ClientProtocol(uri, max_size=16 * 1024 * 1024)
    stream: trio.abc.Stream | None = None
    try:
        with trio.fail_after(connect_timeout_s):
            if uri.secure:
                ctx = ssl_context if ssl_context is not None else ssl.create_default_context()
                stream = await trio.open_ssl_over_tcp_stream(uri.host, uri.port, ssl_context=ctx)
            else:
                stream = await trio.open_tcp_stream(uri.host, uri.port)
            request = protocol.connect()
            protocol.send_request(request)
            client = WsClient(stream, protocol, url)
            await client._flush()
            while protocol.handshake_exc is None and protocol.state is State.CONNECTING:
                data = await stream.receive_some(_READ)
                if not data:
                    protocol.receive_eof()
                    break
                protocol.receive_data(data)
            events = protocol.events_received()
            if protocol.state is not State.OPEN:
                raise ExchangeConnectionError(
                    f"{url}: handshake failed: {_rejection(events, protocol.handshake_exc)}"
                )
            # Frames that came in the same read as the handshake response.
            client._pending = client._payloads(events[1:])
            return client
    except (OSError, trio.BrokenResourceError, trio.TooSlowError, InvalidHandshake) as exc:
        if stream is not None:
            await trio.aclose_forcefully(stream)
        raise ExchangeConnectionError(f"{url}: cannot connect: {exc!r}") from None
    except BaseException:
        if stream is not None:
            await trio.aclose_forcefully(stream)
        raise


def _rejection(events: Sequence[object], exc: Exception | None) -> str:
    for event in events:
        if isinstance(event, Response):
            body = (event.body or b"")[:200].decode("utf-8", "replace")
            return f"HTTP {event.status_code} {body}"
    return repr(exc) if exc is not None else "no response"
