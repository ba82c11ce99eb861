"""Helpers for simulator tests: start a simulator on port 0 in the test's nursery, a
trio-websocket client, an httpx client, and a raw wsproto client for what trio-websocket
hides (server pings, not answering them)."""

from __future__ import annotations

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
from wsproto.events import AcceptConnection, CloseConnection, Message, Ping, Request

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
    """A WebSocket client on wsproto that shows pings and answers nothing by itself."""

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

    async def closed(self) -> CloseConnection | None:
        """Read until the server closes; its close frame, or None if it just hung up."""
        while True:
            event = await self.next_event(CloseConnection)
            return event if event is not None else None

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
]
