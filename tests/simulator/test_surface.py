"""The simulator's public surface, and the small control endpoints not covered elsewhere."""

from __future__ import annotations

import contextlib
import time

import httpx
import trio

import mdp.simulator
from tests.simulator.conftest import Start, raw_client


def test_public_surface() -> None:
    assert set(mdp.simulator.__all__) == {
        "Fault",
        "FaultKind",
        "Market",
        "ReplayConfig",
        "RestLimits",
        "Simulator",
        "SimulatorAddress",
        "SimulatorConfig",
        "TruthAggTrade",
        "TruthBook",
        "TruthTrade",
        "load_config",
        "load_faults",
        "record_capture",
    }


async def test_truth_over_http_equals_the_python_api(start: Start, http: httpx.AsyncClient) -> None:
    sim, address = await start(rate=500)
    base = address.spot_rest + "/_sim"
    assert (await http.post(base + "/pause")).json() == {"paused": True}
    trades = (await http.get(base + "/truth/trades", params={"symbol": "BTCUSDT"})).json()
    assert trades == [
        {"id": t.id, "price": t.price, "qty": t.qty, "time_ms": t.time_ms,
         "buyer_is_maker": t.buyer_is_maker}
        for t in sim.trades("BTCUSDT")
    ]  # fmt: skip
    ids = (await http.get(base + "/truth/checkpoints", params={"symbol": "BTCUSDT"})).json()
    book = (
        await http.get(base + "/truth/book", params={"symbol": "BTCUSDT", "update_id": ids[-1]})
    ).json()
    truth = sim.book("BTCUSDT", ids[-1])
    assert truth is not None
    assert book["update_id"] == ids[-1]
    assert [tuple(level) for level in book["bids"]] == list(truth.bids)
    missing = await http.get(base + "/truth/book", params={"symbol": "BTCUSDT", "update_id": 1})
    assert missing.status_code == 404
    unknown = await http.get(base + "/truth/trades", params={"symbol": "DOGEUSDT"})
    assert unknown.status_code == 400
    assert "DOGEUSDT" in unknown.json()["error"]
    stats = (await http.get(address.futures_rest + "/_sim/stats")).json()
    assert stats["paused"] is True
    assert (await http.post(base + "/resume")).json() == {"paused": False}


async def test_oversized_control_body_is_refused(start: Start) -> None:
    _, address = await start()
    body = b"x" * (2 << 20)
    head = b"POST /_sim/fault HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % len(body)
    stream = await trio.open_tcp_stream("127.0.0.1", address.spot_port)
    async with stream:
        with contextlib.suppress(trio.BrokenResourceError):  # it may stop reading early
            await stream.send_all(head + body)
        reply = b""
        with trio.fail_after(5):
            while b"\r\n\r\n" not in reply:
                reply += await stream.receive_some(65536)
    assert reply.startswith(b"HTTP/1.1 413 ")


async def test_broken_clients_do_not_stop_the_server(start: Start, http: httpx.AsyncClient) -> None:
    sim, address = await start()
    for junk in (
        b"GET /ws/btcusdt@trade HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\n"
        b"connection: upgrade\r\n\r\n",  # no Sec-WebSocket-Key
        b"NOT HTTP AT ALL\r\n\r\n",
    ):
        stream = await trio.open_tcp_stream("127.0.0.1", address.spot_port)
        async with stream:
            await stream.send_all(junk)
            with trio.fail_after(5):
                while await stream.receive_some(65536):
                    pass
    assert sim.stats()["counters"]["protocol_errors"] >= 1
    r = await http.get(address.spot_rest + "/api/v3/ping")
    assert r.json() == {}


async def test_cancelling_serve_closes_every_connection_cleanly() -> None:
    from mdp.simulator import Simulator, SimulatorAddress, SimulatorConfig

    sim = Simulator(SimulatorConfig(symbols=["BTCUSDT"], rate=200))
    stop = trio.CancelScope()
    stopped = trio.Event()

    async def serve(*, task_status: trio.TaskStatus[SimulatorAddress]) -> None:
        with stop:
            await sim.serve(task_status=task_status)
        stopped.set()

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            address = await nursery.start(serve)
            async with raw_client(address.spot_port, "/ws/btcusdt@trade") as client:
                assert await client.message() is not None
                stop.cancel()
                close = await client.closed()
                await stopped.wait()
    assert close is not None
    assert close.code == 1001
    assert sim.stats()["connections"] == {"spot": [], "futures": []}


async def test_event_times_are_the_wall_clock_even_when_the_markets_were_slow_to_build() -> None:
    """The simulated clock starts at the wall time the markets were built; a market that
    starts running later catches up, so event times are not late by the start-up time
    (latency figures measured against them depend on it)."""
    from mdp.simulator import SimulatorConfig
    from mdp.simulator._hub import Hub
    from mdp.simulator._instruments import Market
    from mdp.simulator.okx._config import OkxSimulatorConfig
    from mdp.simulator.okx._hub import OkxHub

    binance = Hub(SimulatorConfig(symbols=["BTCUSDT"], rate=400))
    okx = OkxHub(OkxSimulatorConfig(symbols=["BTC-USDT"], rate=400))
    await trio.sleep(0.3)  # the start-up time the first ticks make up for
    async with trio.open_nursery() as nursery:
        nursery.start_soon(binance.run_market)
        nursery.start_soon(okx.run_market)
        await trio.sleep(0.5)
        wall_ms = time.time() * 1000
        clocks = {
            "binance": binance.now_ms(Market.SPOT),
            "okx": okx.now_ms(),
        }
        nursery.cancel_scope.cancel()
    for name, clock in clocks.items():
        assert abs(wall_ms - clock) < 100, (name, wall_ms - clock)
