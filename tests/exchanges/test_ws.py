"""The WebSocket layer's fast path gives what the ``websockets`` protocol alone gives.

For random sequences of server frames — data frames of every length encoding, fragmented
messages with pings between the fragments, pings, pongs, closes (valid and invalid),
reserved bits, masked and oversized frames, invalid opcodes, garbage — cut at random read
boundaries and optionally ended by EOF, :class:`Receiver` (fast path on) must give, read by
read, the same payloads and the same replies (pongs, close) as the protocol fed the same
reads, and leave the protocol in the same state (close codes, the error it failed with).
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from mdp._exceptions import ExchangeConnectionError
from mdp.exchanges._ws import Receiver, connect

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# -- building server frames ---------------------------------------------------------------


def header(
    opcode: int, length: int, *, fin: bool = True, rsv: int = 0, mask: bytes = b"", form: int = 0
) -> bytes:
    """A frame header; ``form`` 0 is the shortest length encoding, 2 or 8 force that many
    extended length bytes (websockets accepts non-minimal encodings)."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    m = 0x80 if mask else 0
    if form == 0 or (form == 2 and length >= 65536):
        form = 0 if length < 126 else 2 if length < 65536 else 8
    if form == 0:
        head = bytes((b0, m | length))
    elif form == 2:
        head = bytes((b0, m | 126)) + struct.pack("!H", length)
    else:
        head = bytes((b0, m | 127)) + struct.pack("!Q", length)
    return head + mask


def frame(opcode: int, payload: bytes, **kw: Any) -> bytes:
    mask = kw.get("mask", b"")
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header(opcode, len(payload), **kw) + payload


def close_payload(code: int, reason: bytes) -> bytes:
    return struct.pack("!H", code) + reason


small = st.binary(max_size=140)
sized = st.builds(  # long payloads, cheap to draw: one byte repeated, the length around 126/64 KiB
    lambda n, b: bytes([b]) * n,
    st.one_of(st.integers(120, 300), st.integers(65530, 65545), st.integers(1990, 2010)),
    st.integers(0, 255),
)
payloads = st.one_of(small, small, small, sized)
data_opcode = st.sampled_from([Opcode.TEXT.value, Opcode.BINARY.value])
forms = st.sampled_from([0, 0, 0, 2, 8])

data_frames = st.builds(lambda op, p, f: frame(op, p, form=f), data_opcode, payloads, forms)
pings = st.builds(lambda p: frame(Opcode.PING.value, p), st.binary(max_size=125))
pongs = st.builds(lambda p: frame(Opcode.PONG.value, p), st.binary(max_size=125))
closes = st.one_of(
    st.builds(
        lambda c, r: frame(Opcode.CLOSE.value, close_payload(c, r)),
        st.sampled_from([1000, 1001, 1008, 1011, 3000, 4999, 999, 1005, 5000]),
        st.one_of(st.binary(max_size=20), st.just("ünïcode".encode())),
    ),
    st.just(frame(Opcode.CLOSE.value, b"")),
    st.just(frame(Opcode.CLOSE.value, b"\x03")),  # too short
)


@st.composite
def fragmented(draw: st.DrawFn) -> bytes:
    """A message in 2–4 fragments, with pings (and, rarely, a stray frame) between them."""
    parts = draw(st.lists(payloads, min_size=2, max_size=4))
    out = []
    for i, part in enumerate(parts):
        opcode = draw(data_opcode) if i == 0 else Opcode.CONT.value
        out.append(frame(opcode, part, fin=i == len(parts) - 1, form=draw(forms)))
        if i < len(parts) - 1:
            out.append(draw(st.one_of(st.just(b""), pings, pongs)))
            if draw(st.integers(0, 20)) == 0:  # a data frame inside: a protocol error
                out.append(draw(data_frames))
    return b"".join(out)


@st.composite
def odd_frames(draw: st.DrawFn) -> bytes:
    """Frames the protocol must judge: reserved bits, masks, bad opcodes, long control
    frames, fragmented control frames, a continuation out of the blue, garbage."""
    opcode = draw(st.sampled_from([0, 1, 2, 3, 7, 8, 9, 10, 11, 15]))
    payload = draw(payloads)
    kind = draw(st.sampled_from(["rsv", "mask", "plain", "unfinished", "garbage"]))
    if kind == "garbage":
        return draw(st.binary(min_size=1, max_size=12))
    if kind == "rsv":
        return frame(opcode, payload, rsv=draw(st.integers(1, 7)), form=draw(forms))
    if kind == "mask":
        return frame(opcode, draw(small), mask=draw(st.binary(min_size=4, max_size=4)))
    return frame(opcode, payload, fin=kind == "plain", form=draw(forms))


streams = st.lists(
    st.one_of(
        data_frames,
        data_frames,
        data_frames,
        data_frames,
        data_frames,
        data_frames,
        pings,
        pongs,
        fragmented(),
        closes,
        odd_frames(),
    ),
    max_size=25,
).map(b"".join)


@st.composite
def reads(draw: st.DrawFn) -> tuple[list[bytes], bool, int | None]:
    """The stream cut into reads, whether EOF follows, and the protocol's max_size."""
    data = draw(streams)
    data = data[: len(data) - draw(st.sampled_from([0, 0, 0, 1, 2, 5, 20]))]  # ends mid-frame
    step = draw(st.sampled_from([0, 0, 0, 1, 3, 7, 64]))
    if step:
        step = max(step, len(data) // 300)  # at most ~300 reads
        cuts = list(range(step, len(data), step))
    else:
        cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=30))))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    chunks = [c for c in chunks if c]
    max_size = draw(st.sampled_from([16 * 1024 * 1024, 16 * 1024 * 1024, 2000, 150, None]))
    return chunks, draw(st.booleans()), max_size


# -- the two sides ---------------------------------------------------------------------------


def opened(max_size: int | None) -> ClientProtocol:
    """A client protocol past its handshake, as :func:`connect` leaves it."""
    p = ClientProtocol(parse_uri("ws://127.0.0.1/stream"), max_size=max_size)
    request = p.connect()
    p.send_request(request)
    p.data_to_send()
    key = request.headers["Sec-WebSocket-Key"] + GUID
    accept = base64.b64encode(hashlib.sha1(key.encode()).digest())
    p.receive_data(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )
    p.events_received()
    return p


def sent_frames(protocol: ClientProtocol) -> list[tuple[int, bytes] | str]:
    """What the protocol wants sent, unmasked (the masks are random): (opcode, payload)
    per frame, "EOF" for the half-close."""
    out: list[tuple[int, bytes] | str] = []
    for chunk in protocol.data_to_send():
        if not chunk:
            out.append("EOF")
            continue
        length, pos = chunk[1] & 0x7F, 2
        if length == 126:
            length, pos = struct.unpack("!H", chunk[2:4])[0], 4
        mask, pos = chunk[pos : pos + 4], pos + 4
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(chunk[pos : pos + length]))
        out.append((chunk[0], body))
    return out


def reference(protocol: ClientProtocol, data: bytes | None, parts: list[bytes]) -> list[bytes]:
    """The protocol alone: the payloads of the messages completed by one read."""
    if data is None:
        protocol.receive_eof()
    else:
        protocol.receive_data(data)
    out = []
    for event in protocol.events_received():
        if isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            parts.append(bytes(event.data))
            if event.fin:
                out.append(b"".join(parts))
                parts.clear()
    return out


def outcome(protocol: ClientProtocol) -> tuple[Any, ...]:
    exc = protocol.parser_exc
    return (
        protocol.state,
        protocol.close_rcvd,
        protocol.close_sent,
        protocol.close_rcvd_then_sent,
        protocol.eof_sent,
        None if exc is None else (type(exc), str(exc)),
    )


def check(chunks: list[bytes], eof: bool, max_size: int | None) -> int:
    alone, ours = opened(max_size), opened(max_size)
    receiver = Receiver(ours)
    parts: list[bytes] = []
    fast = 0
    steps: list[bytes | None] = [*chunks, None] if eof else list(chunks)
    for i, data in enumerate(steps):
        want = reference(alone, data, parts)
        got = receiver.receive_data(data) if data is not None else receiver.receive_eof()
        assert [bytes(p) for p in got] == want, f"payloads differ at read {i}"
        assert sent_frames(ours) == sent_frames(alone), f"replies differ at read {i}"
        assert outcome(ours) == outcome(alone), f"state differs at read {i}"
        fast += len(got)
    return fast


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reads())
@example(([frame(1, b"x" * 200, form=8)[:5], frame(1, b"x" * 200, form=8)[5:]], False, None))
@example(([frame(9, b"p")[:1], frame(9, b"p")[1:] + frame(1, b"a")], True, 2000))
@example(([header(3, 300)[:3], header(3, 300)[3:]], True, 2000))  # bad opcode, long header
@example(([frame(1, b"y" * 2001)[:3], frame(1, b"y" * 2001)[3:]], False, 2000))  # too big
def test_fast_path_equals_protocol_alone(case: tuple[list[bytes], bool, int | None]) -> None:
    check(*case)


def test_plain_frames_take_the_fast_path() -> None:
    """The point of it: ordinary data frames never reach the protocol's parser."""
    protocol = opened(16 * 1024 * 1024)
    receiver = Receiver(protocol)
    data = b"".join(frame(1, b"%d" % i * (i % 300)) for i in range(1000))
    fed: list[int] = []
    real = protocol.receive_data

    def receive_data(data: bytes | bytearray) -> None:
        fed.append(len(data))
        real(data)

    protocol.receive_data = receive_data  # type: ignore[method-assign]
    got = []
    for i in range(0, len(data), 4093):
        got += receiver.receive_data(data[i : i + 4093])
    assert [bytes(p) for p in got] == [b"%d" % i * (i % 300) for i in range(1000)]
    assert fed == []
    got = receiver.receive_data(frame(9, b"hi") + frame(2, b"after"))
    assert got == [b"after"]
    assert fed == [4]
    assert receiver.pings == 1
    assert sent_frames(protocol) == [(0x8A, b"hi")]  # the pong


# -- the handshake: frames in the same read as the 101 response ----------------------------------


async def serve_once(reply: Any, nursery: trio.Nursery, *, hang_up: bool = False) -> int:
    """A loopback server for one client: ``reply(accept)`` gives the bytes to send (a
    list: one send each); then it waits for the client to go (``hang_up``: for one more
    read, the client's echo of a close, and closes)."""

    async def handle(stream: trio.SocketStream) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            request += await stream.receive_some(4096)
        key = next(
            line.split(b":", 1)[1].strip()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1(key + GUID.encode()).digest())
        for chunk in reply(accept):
            await stream.send_all(chunk)
            await trio.sleep(0.01)
        with trio.move_on_after(5):
            while await stream.receive_some(4096) and not hang_up:
                pass
        await stream.aclose()

    listeners = await nursery.start(trio.serve_tcp, handle, 0)
    port: int = listeners[0].socket.getsockname()[1]
    return port


def upgrade(accept: bytes) -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


@pytest.mark.parametrize("fast_path", [True, False])
async def test_frames_with_the_handshake_response(fast_path: bool) -> None:
    one, two, three = frame(1, b'{"result":null,"id":1}'), frame(1, b"x" * 300), frame(9, b"p")
    cut = len(two) // 2

    def reply(accept: bytes) -> list[bytes]:
        return [upgrade(accept) + one + two[:cut], two[cut:] + three + frame(1, b"end")]

    async with trio.open_nursery() as nursery:
        port = await serve_once(reply, nursery, hang_up=True)
        ws = await connect(
            f"ws://127.0.0.1:{port}/stream", fast_path=fast_path, receive_buffer=1 << 18
        )
        assert isinstance(ws.stream, trio.SocketStream)
        assert ws.stream.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 1 << 18
        got = [bytes(p) for p in await ws.receive_batch()]
        while len(got) < 3:
            got += [bytes(p) for p in await ws.receive_batch()]
        assert got == [b'{"result":null,"id":1}', b"x" * 300, b"end"]
        assert ws.pings == 1
        assert ws.open
        await ws.aclose()
        nursery.cancel_scope.cancel()


async def test_rejected_handshake_says_why() -> None:
    def reply(accept: bytes) -> list[bytes]:
        return [b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\nbad ", b"request"]

    async with trio.open_nursery() as nursery:
        port = await serve_once(reply, nursery)
        with pytest.raises(ExchangeConnectionError, match="HTTP 400 bad request"):
            await connect(f"ws://127.0.0.1:{port}/stream")
        nursery.cancel_scope.cancel()


async def test_close_from_the_server_ends_the_batch_loop() -> None:
    def reply(accept: bytes) -> list[bytes]:
        return [upgrade(accept) + frame(1, b"last"), frame(8, close_payload(1001, b"bye"))]

    async with trio.open_nursery() as nursery:
        port = await serve_once(reply, nursery, hang_up=True)
        ws = await connect(f"ws://127.0.0.1:{port}/stream")
        assert [bytes(p) for p in await ws.receive_batch()] == [b"last"]
        with pytest.raises(ExchangeConnectionError, match="code 1001 'bye'"):
            await ws.receive_batch()
        await ws.aclose()
        nursery.cancel_scope.cancel()
