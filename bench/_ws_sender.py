"""A minimal WebSocket sender for the protocol-engine benchmark (run as a subprocess).

    python bench/_ws_sender.py PORT_FILE FRAMES

Accepts one client at a time on 127.0.0.1 (ephemeral port, written to PORT_FILE), does the
handshake with wsproto and then sends FRAMES pre-framed combined-stream trade frames
(~185 bytes each, the shape of Binance's ``@trade``) as fast as the socket takes them, then
closes. Framing is done once up front, so the sender costs almost nothing per frame and
the client under test is the bottleneck.
"""

from __future__ import annotations

import sys

import orjson
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request

CHUNK_FRAMES = 4096


def trade_frame(i: int) -> bytes:
    data = orjson.dumps(
        {
            "e": "trade", "E": 1770000000000 + i, "s": "BTCUSDT", "t": 100000 + i,
            "p": f"{68000 + i % 500}.{i % 100:02d}000000", "q": "0.01230000",
            "T": 1770000000000 + i, "m": bool(i & 1), "M": True,
        }
    )  # fmt: skip
    return b'{"stream":"btcusdt@trade","data":' + data + b"}"


def header(n: int) -> bytes:
    return bytes((0x81, n)) if n < 126 else b"\x81\x7e" + n.to_bytes(2, "big")


def chunk(start: int, count: int) -> bytes:
    parts = []
    for i in range(start, start + count):
        f = trade_frame(i)
        parts += (header(len(f)), f)
    return b"".join(parts)


async def handle(stream: trio.SocketStream, total: int, block: bytes) -> None:
    ws = WSConnection(ConnectionType.SERVER)
    while True:
        data = await stream.receive_some(65536)
        if not data:
            return
        ws.receive_data(data)
        if any(isinstance(e, Request) for e in ws.events()):
            break
    await stream.send_all(ws.send(AcceptConnection()))
    sent = 0
    try:
        while sent < total:
            await stream.send_all(block)
            sent += CHUNK_FRAMES
        await stream.send_all(b"\x88\x02\x03\xe8")  # close 1000
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    await trio.aclose_forcefully(stream)


async def main(port_file: str, total: int) -> None:
    block = chunk(0, CHUNK_FRAMES)
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    await trio.Path(port_file).write_text(str(port))
    await trio.serve_listeners(lambda s: handle(s, total, block), listeners)


if __name__ == "__main__":
    trio.run(main, sys.argv[1], int(sys.argv[2]))
