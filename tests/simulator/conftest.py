"""Helpers for simulator tests: start a simulator on port 0 in the test's nursery, a
trio-websocket client, an httpx client, and a raw wsproto client for what trio-websocket
hides (server pings, not answering them)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import attrs
import httpx
import orjson
import pytest
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Message, Ping, Request, TextMessage

from mdp.simulator import Simulator, SimulatorAddress, SimulatorConfig

START_MS = 1_770_000_000_000
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

Start = Callable[..., Awaitable[tuple[Simulator, SimulatorAddress]]]


@pytest.fixture
def start(nursery: trio.Nursery) -> Start:
    """``sim, address = await start(rate=..., ...)``: a simulator serving on port 0."""

    async def _start(**changes: Any) -> tuple[Simulator, SimulatorAddress]:
        base = SimulatorConfig(symbols=["BTCUSDT", "ETHUSDT"], rate=400, start_ms=START_MS)
        sim = Simulator(attrs.evolve(base, **changes))
        address = await nursery.start(sim.serve)
        return sim, address

    return _start


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def is_number(value: object) -> bool:
    """A Binance number string: exact decimal text, never a JSON number."""
    return isinstance(value, str) and NUMBER.match(value) is not None


def on_step(value: str, step: str) -> bool:
    return Decimal(value) % Decimal(step) == 0


async def messages(ws: Any, n: int) -> list[Any]:
    """The next ``n`` messages of a trio-websocket connection, parsed."""
    out: list[Any] = []
    with trio.fail_after(5):
        while len(out) < n:
            out.append(orjson.loads(await ws.get_message()))
    return out


async def data_of(ws: Any, n: int, stream: str | None = None) -> list[Any]:
    """The next ``n`` combined-stream payloads (of ``stream`` if given)."""
    out: list[Any] = []
    with trio.fail_after(5):
        while len(out) < n:
            msg = orjson.loads(await ws.get_message())
            if "stream" in msg and (stream is None or msg["stream"] == stream):
                out.append(msg["data"])
    return out


class RawClient:
    """A WebSocket client on wsproto that shows pings and answers nothing by itself.

    Used wherever the server closes the connection: trio-websocket 0.12's client never
    closes its socket when the server closes first (its reader stops on EOF without
    ``aclose``), which is a ResourceWarning, and warnings are errors here."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.events: list[Any] = []

    @classmethod
    async def connect(cls, port: int, target: str) -> RawClient:
        client = cls(await trio.open_tcp_stream("127.0.0.1", port))
        await client.stream.send_all(client.ws.send(Request(host="127.0.0.1", target=target)))
        while not any(isinstance(e, AcceptConnection) for e in client.events):
            await client._read()
        return client

    async def _read(self) -> bool:
        data = await self.stream.receive_some(65536)
        if not data:
            return False
        self.ws.receive_data(data)
        self.events.extend(self.ws.events())
        return True

    async def next_event(self, kind: type[Any]) -> Any:
        while True:
            for i, event in enumerate(self.events):
                if isinstance(event, kind):
                    return self.events.pop(i)
            if not await self._read():
                return None

    async def message(self) -> str | None:
        """The next whole text message, or None once the connection is gone."""
        parts: list[str] = []
        while True:
            event = await self.next_event(Message)
            if event is None:
                return None
            parts.append(event.data)
            if event.message_finished:
                return "".join(parts)

    async def send(self, text: str) -> None:
        await self.stream.send_all(self.ws.send(TextMessage(data=text)))

    async def closed(self) -> CloseConnection | None:
        """Read until the server closes; its close frame (answered, as a client must),
        or None if it just hung up (an abnormal closure, 1006 to a browser)."""
        event = await self.next_event(CloseConnection)
        if event is not None:
            with contextlib.suppress(trio.BrokenResourceError):
                await self.stream.send_all(self.ws.send(event.response()))
        return event

    async def aclose(self) -> None:
        await self.stream.aclose()


__all__ = [
    "NUMBER",
    "START_MS",
    "Message",
    "Ping",
    "RawClient",
    "Start",
    "data_of",
    "is_number",
    "messages",
    "on_step",
    "raw_client",
]


@contextlib.asynccontextmanager
async def raw_client(port: int, target: str) -> AsyncIterator[RawClient]:
    client = await RawClient.connect(port, target)
    try:
        yield client
    finally:
        await client.aclose()
