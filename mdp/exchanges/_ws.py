"""The collectors' WebSocket client: the ``websockets`` sans-I/O protocol driven from a
Trio stream, with a fast path for plain data frames, handing frames over in batches.

One ``receive_some`` of up to 64 KiB yields every complete frame in it as one list from
:meth:`WsClient.receive_batch`. There is no reader task and no per-message hand-off
(trio-websocket's hand-off alone costs ~12 µs a frame).

The fast path (:class:`Receiver`): nearly every frame a market-data server sends is a
complete, unmasked, unfragmented TEXT or BINARY frame with no reserved bits — a 2, 4 or
10 byte header (RFC 6455 §5.2) in front of the payload. Those are sliced straight out of
the read buffer (~4k instructions, ~0.4 µs a frame, where the protocol's generator-based
parser takes ~27k); a frame cut by the end of a read is completed from the start of the
next one, without copying that read. Every other frame — ping, pong, close, a fragment, reserved
bits, a masked or oversized frame, anything invalid — goes byte for byte to the
``websockets`` protocol, which answers pings, closes and fails the connection exactly as it
would alone. The protocol is only ever fed whole frames (or a frame's beginning, then the
rest of that frame before anything else), so its parser stays at a frame boundary whenever
the fast path runs. Once the protocol leaves the OPEN state (a close, a protocol error),
or if an extension was negotiated, everything goes to the protocol.
``tests/exchanges/test_ws.py`` checks, for random frame sequences split at random read
boundaries, that the payloads, the replies and the close are those of the protocol alone.

``bench/bench_engines.py`` has the figures behind the choice of engine and the fast path
(docs/benchmarks.md, "Binance collector").
"""

from __future__ import annotations

import socket
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

__all__ = ["Payload", "Receiver", "WsClient", "connect"]

Payload = bytes | bytearray | memoryview
"""A data frame's payload as the layer hands it over; orjson and msgspec take all three."""

_READ = 65536
_MAX_SIZE = 16 * 1024 * 1024
_TEXT, _BINARY, _CONT, _PING = Opcode.TEXT, Opcode.BINARY, Opcode.CONT, Opcode.PING
_OPEN = State.OPEN
_NO_LIMIT = 1 << 64
_MAX_HEADER = 14  # 2 bytes, 8 of extended length, 4 of mask


class Receiver:
    """Bytes from the network in, data payloads out (sans-I/O; :class:`WsClient` does the
    I/O). ``fast=False`` hands everything to the protocol (for tests and benchmarks).

    Replies the protocol queues (pongs, the close handshake) are in
    ``protocol.data_to_send()``; the caller sends them."""

    def __init__(self, protocol: ClientProtocol, *, fast: bool = True) -> None:
        self.protocol = protocol
        self.pings = 0
        self._parts: list[Payload] = []  # fragments of a message still incomplete
        self._rest = bytearray()  # the beginning of a frame, not fed to anyone yet
        self._want = 0  # bytes that frame still lacks (0: its header is incomplete)
        self._head: bytes | bytearray = b""  # a header the protocol has had part of
        self._owed = 0  # bytes of the frame the protocol has begun that it has not had yet
        limits = [s for s in (protocol.max_message_size, protocol.max_fragment_size) if s]
        self._limit = min(limits, default=_NO_LIMIT)
        self._fast = fast and not protocol.extensions and protocol.state is _OPEN

    def receive_data(self, data: bytes | bytearray) -> list[Payload]:
        """The payloads of every data message completed by ``data``, in order."""
        out: list[Payload] = []
        if not self._fast:
            self._to_protocol(data, out)
            return out
        pos = 0
        if self._rest:  # complete that frame first (without copying the whole read)
            rest = self._rest
            if not self._want:  # its header was incomplete
                end = self._plain_end(bytes(rest) + data[:_MAX_HEADER])
                if end == -1:
                    rest += data
                    return out
                if end == -2:  # not a plain frame: the general way (rare: a ping, say)
                    self._rest = bytearray()
                    self._split(bytes(rest) + data, 0, out)
                    return out
                self._want = end - len(rest)
            pos = self._want
            if pos > len(data):  # a long frame: keep collecting it
                rest += data
                self._want -= len(data)
                return out
            self._rest, self._want = bytearray(), 0
            if not self._split(bytes(rest) + data[:pos], 0, out):
                if pos < len(data):
                    self._to_protocol(data[pos:], out)
                return out
        elif self._head:  # the rest of a header the protocol has begun
            head = self._head
            end = _frame_end(head + data[:_MAX_HEADER], 0)
            if end < 0:
                self._head = head + data
                self._slow(data, out)
                return out
            self._head = b""
            self._owed = end - len(head)
        if self._owed:  # the protocol is inside a frame: finish it first
            n = len(data)
            pos = self._owed if self._owed < n else n
            self._owed -= pos
            if not self._slow(data[:pos] if pos < n else data, out):
                if pos < n:
                    self._to_protocol(data[pos:], out)
                return out
        self._split(data, pos, out)
        return out

    def _plain_end(self, data: bytes) -> int:
        """Where the frame at the start of ``data`` ends if the fast path takes it; -1 if
        its header is incomplete, -2 if it is the protocol's (as :meth:`_split` decides)."""
        if len(data) < 2:
            return -1
        if self._parts or data[0] not in (0x81, 0x82) or data[1] > 127:
            return -2
        end = _frame_end(data, 0)
        if end < 0:
            return -1
        header = 2 if data[1] < 126 else 4 if data[1] == 126 else 10
        return end if end - header <= self._limit else -2

    def _split(self, data: bytes | bytearray, pos: int, out: list[Payload]) -> bool:
        """The payloads of the plain frames from ``pos`` on, the other frames to the
        protocol; what is left incomplete is kept for the next read. False once the
        protocol took over for good (it was given the rest of ``data``)."""
        n = len(data)
        append = out.append
        limit = self._limit
        plain = not self._parts  # no fragmented message in progress
        while pos + 2 <= n:
            # 0x81, 0x82: FIN, no reserved bits, TEXT or BINARY; then no mask bit.
            if plain and data[pos] in (0x81, 0x82):
                length = data[pos + 1]
                if length < 126:
                    start = pos + 2
                elif length == 126:
                    start = pos + 4
                    if start > n:
                        break
                    length = (data[pos + 2] << 8) | data[pos + 3]
                elif length == 127:
                    start = pos + 10
                    if start > n:
                        break
                    length = int.from_bytes(data[pos + 2 : start], "big")
                else:
                    start = -1  # masked
                if start > 0 and length <= limit:
                    end = start + length
                    if end > n:
                        self._want = end - n
                        break
                    append(data[start:end])
                    pos = end
                    continue
            # Anything else is the protocol's: this frame's bytes, as far as we have them.
            end = _frame_end(data, pos)
            if end < 0:  # part of a long header: the protocol may judge it already
                self._head = data[pos:]
                return self._slow(self._head, out)
            stop = end if end < n else n
            self._owed = end - stop
            chunk = data[pos:stop] if pos or stop < n else data
            pos = stop
            if not self._slow(chunk, out):  # closing or failed: the rest is the protocol's
                if pos < n:
                    self._to_protocol(data[pos:], out)
                return False
            plain = not self._parts
        if pos < n:
            self._rest = bytearray(data[pos:])
        return True

    def receive_eof(self) -> list[Payload]:
        """The end of the stream (what the protocol makes of it; normally no payloads)."""
        out: list[Payload] = []
        self._fast = False
        if self._rest:  # a frame's beginning that never completed
            rest, self._rest = self._rest, bytearray()
            self._to_protocol(rest, out)
        self.protocol.receive_eof()
        self._collect(self.protocol.events_received(), out)
        return out

    def _slow(self, chunk: bytes | bytearray, out: list[Payload]) -> bool:
        """Feed the protocol one frame (or its beginning); False once the fast path is
        over for good (the protocol is no longer OPEN)."""
        self._to_protocol(chunk, out)
        if self.protocol.state is _OPEN:
            return True
        self._fast = False
        return False

    def _to_protocol(self, data: bytes | bytearray, out: list[Payload]) -> None:
        protocol = self.protocol
        protocol.receive_data(data)
        self._collect(protocol.events_received(), out)

    def _collect(self, events: Sequence[object], out: list[Payload]) -> None:
        parts = self._parts
        for frame in events:
            if type(frame) is not Frame:
                continue
            opcode = frame.opcode
            if opcode is _TEXT or opcode is _BINARY or opcode is _CONT:
                if frame.fin and not parts:
                    out.append(frame.data)
                else:
                    parts.append(frame.data)
                    if frame.fin:
                        out.append(b"".join(parts))
                        parts.clear()
            elif opcode is _PING:
                self.pings += 1  # the protocol has queued the pong already


def _frame_end(data: bytes | bytearray, pos: int) -> int:
    """Where the frame starting at ``pos`` ends (RFC 6455 §5.2); -1 if its header is not
    all there yet."""
    n = len(data)
    if pos + 2 > n:
        return -1
    b1 = data[pos + 1]
    length = b1 & 0x7F
    end = pos + (2 if b1 < 0x80 else 6)  # + the 4 mask bytes
    if length == 126:
        if pos + 4 > n:
            return -1
        length = (data[pos + 2] << 8) | data[pos + 3]
        end += 2
    elif length == 127:
        if pos + 10 > n:
            return -1
        length = int.from_bytes(data[pos + 2 : pos + 10], "big")
        end += 8
    return end + length


class WsClient:
    """An open WebSocket connection. Build it with :func:`connect`; one task receives."""

    def __init__(
        self, stream: trio.abc.Stream, protocol: ClientProtocol, url: str, *, fast: bool = True
    ) -> None:
        self.stream = stream
        self.protocol = protocol
        self.url = url
        self.receiver = Receiver(protocol, fast=fast)
        self._pending: list[Payload] = []  # frames that arrived with the handshake response
        self._send_lock = trio.StrictFIFOLock()

    @property
    def open(self) -> bool:
        return self.protocol.state is _OPEN

    @property
    def pings(self) -> int:
        """Pings received (and answered)."""
        return self.receiver.pings

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
        protocol, stream, receiver = self.protocol, self.stream, self.receiver
        while True:
            try:
                data = await stream.receive_some(_READ)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                raise ExchangeConnectionError(f"{self.url}: connection lost: {exc!r}") from None
            batch = receiver.receive_data(data) if data else receiver.receive_eof()
            if protocol.writes:  # a pong, or the reply to a close
                await self._flush()
            if batch:
                return batch
            if not data or protocol.state is State.CLOSED:
                raise ExchangeConnectionError(f"{self.url}: closed: {self._close_reason()}")

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
                if self.protocol.state is _OPEN:
                    self.protocol.send_close(code, reason)
                    await self._flush()
                    receiver = self.receiver
                    while not self._closed():
                        data = await self.stream.receive_some(_READ)
                        if not data:
                            break
                        receiver.receive_data(data)
                        await self._flush()
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError, ProtocolError):
                pass
        await trio.aclose_forcefully(self.stream)


async def connect(
    url: str,
    *,
    ssl_context: ssl.SSLContext | None = None,
    connect_timeout_s: float = 10.0,
    fast_path: bool = True,
    receive_buffer: int | None = None,
) -> WsClient:
    """Open ``ws://`` or ``wss://`` (TLS with ``ssl_context`` or the system default).

    ``fast_path=False`` leaves every frame to the protocol (benchmarks, tests).
    ``receive_buffer`` sets the socket's ``SO_RCVBUF`` in bytes (Linux doubles it and caps
    it at ``net.core.rmem_max``; it also turns off the kernel's autotuning for the
    socket): room for the sender to keep sending while a batch is being parsed. ``None``
    leaves the kernel's default."""
    try:
        uri = parse_uri(url)
    except InvalidURI as exc:
        raise ExchangeConnectionError(f"not a WebSocket URL: {url!r}: {exc}") from None
    protocol = ClientProtocol(uri, max_size=_MAX_SIZE)
    stream: trio.abc.Stream | None = None
    try:
        with trio.fail_after(connect_timeout_s):
            if uri.secure:
                ctx = ssl_context if ssl_context is not None else ssl.create_default_context()
                stream = await trio.open_ssl_over_tcp_stream(uri.host, uri.port, ssl_context=ctx)
            else:
                stream = await trio.open_tcp_stream(uri.host, uri.port)
            if receive_buffer is not None:
                tcp = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
                assert isinstance(tcp, trio.SocketStream)
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            request = protocol.connect()
            protocol.send_request(request)
            out = protocol.data_to_send()
            for chunk in out:
                await stream.send_all(chunk)
            after = await _handshake(stream, protocol)
            events = protocol.events_received()
            if protocol.state is not _OPEN:
                raise ExchangeConnectionError(
                    f"{url}: handshake failed: {_rejection(events, protocol.handshake_exc)}"
                )
            client = WsClient(stream, protocol, url, fast=fast_path)
            if after:  # frames that came in the same read as the handshake response
                client._pending = client.receiver.receive_data(after)
                await client._flush()
            return client
    except (OSError, trio.BrokenResourceError, trio.TooSlowError, InvalidHandshake) as exc:
        if stream is not None:
            await trio.aclose_forcefully(stream)
        raise ExchangeConnectionError(f"{url}: cannot connect: {exc!r}") from None
    except BaseException:
        if stream is not None:
            await trio.aclose_forcefully(stream)
        raise


async def _handshake(stream: trio.abc.Stream, protocol: ClientProtocol) -> bytes:
    """Feed the protocol the HTTP response, and of what follows it only what a failed
    handshake needs (its body); returns the bytes after a 101 response's headers, which
    are frames, for the :class:`Receiver` (so the protocol's parser starts at a frame
    boundary). A 101 response has no body and its headers end at the first CRLF CRLF."""
    head = bytearray()
    while protocol.handshake_exc is None and protocol.state is State.CONNECTING:
        data = await stream.receive_some(_READ)
        if not data:
            protocol.receive_eof()
            break
        fed = len(head)
        head += data
        end = head.find(b"\r\n\r\n", max(0, fed - 3))
        if end < 0:
            protocol.receive_data(data)
            continue
        end += 4
        protocol.receive_data(head[fed:end])
        after = bytes(head[end:])
        if protocol.state is _OPEN:
            return after
        # Not a 101 (or not valid): the rest is the response's body, the protocol's.
        if after:
            protocol.receive_data(after)
        while protocol.handshake_exc is None and protocol.state is State.CONNECTING:
            data = await stream.receive_some(_READ)
            if not data:
                protocol.receive_eof()
                break
            protocol.receive_data(data)
        break
    return b""


def _rejection(events: Sequence[object], exc: Exception | None) -> str:
    for event in events:
        if isinstance(event, Response):
            body = (event.body or b"")[:200].decode("utf-8", "replace")
            return f"HTTP {event.status_code} {body}"
    return repr(exc) if exc is not None else "no response"
