"""Every fault is observable by a client: what it sees on the wire after each one."""

from __future__ import annotations

import contextlib
import itertools

import httpx
import orjson
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st
from trio_websocket import open_websocket_url

from mdp.simulator import Fault, FaultKind, Market, Simulator, SimulatorConfig
from mdp.simulator._faults import FrameFaults
from tests.simulator.conftest import Message, Ping, RawClient, Start, messages, raw_client

TRADES = "/ws/btcusdt@trade"


async def _trade_ids(ws: object, n: int) -> list[int]:
    return [m["t"] for m in await messages(ws, n)]


@pytest.mark.parametrize(("abrupt", "code"), [(False, 1001), (True, 1006)])
async def test_disconnect(start: Start, abrupt: bool, code: int) -> None:
    sim, address = await start()
    async with raw_client(address.spot_port, TRADES) as client:
        assert await client.message() is not None
        assert sim.inject(Fault(FaultKind.DISCONNECT, market=Market.SPOT, abrupt=abrupt)) == 1
        with trio.fail_after(5):
            close = await client.closed()
    assert (close.code if close is not None else 1006) == code


async def test_stall_keeps_socket_open_then_resumes_with_a_gap(start: Start) -> None:
    sim, address = await start(rate=1000)
    async with open_websocket_url(address.spot_ws + TRADES) as ws:
        await messages(ws, 3)
        sim.inject(Fault(FaultKind.STALL, seconds=0.5))
        arrivals: list[tuple[float, int]] = []
        with trio.fail_after(5):
            while not arrivals or trio.current_time() - arrivals[0][0] < 0.8:
                arrivals.append((trio.current_time(), orjson.loads(await ws.get_message())["t"]))
        assert not ws.closed  # the socket stayed open throughout
    gap = max(b[0] - a[0] for a, b in itertools.pairwise(arrivals))
    ids = [i for _, i in arrivals]
    missing = ids[-1] - ids[0] + 1 - len(set(ids))
    assert gap >= 0.35  # nothing arrived while stalled
    assert missing > 100  # and what was generated meanwhile never came


async def test_drop_makes_a_trade_id_gap(start: Start) -> None:
    sim, address = await start(rate=1000)
    async with open_websocket_url(address.spot_ws + TRADES) as ws:
        await messages(ws, 2)
        sim.inject(Fault(FaultKind.DROP, count=3, stream="btcusdt@trade"))
        ids = await _trade_ids(ws, 300)
    steps = [b - a for a, b in itertools.pairwise(ids)]
    assert sorted(steps)[-1] == 4  # exactly one gap of three missing ids
    assert steps.count(1) == len(steps) - 1


async def test_drop_makes_a_book_gap(start: Start) -> None:
    sim, address = await start(rate=1000)
    async with open_websocket_url(address.spot_ws + "/ws/btcusdt@depth@100ms") as ws:
        frames = await messages(ws, 1)
        sim.inject(Fault(FaultKind.DROP, count=1))
        frames += await messages(ws, 2)  # the frame after the first one is lost
    gaps = [b["U"] - a["u"] for a, b in itertools.pairwise(frames)]
    assert sorted(g > 1 for g in gaps) == [False, True]  # one U > previous u + 1: a gap


async def test_duplicate(start: Start) -> None:
    sim, address = await start(rate=1000)
    async with open_websocket_url(address.spot_ws + TRADES) as ws:
        await messages(ws, 2)
        sim.inject(Fault(FaultKind.DUPLICATE, count=2))
        ids = await _trade_ids(ws, 300)
    assert len(ids) - len(set(ids)) == 2
    assert sorted(set(ids)) == list(range(min(ids), max(ids) + 1))


async def test_reorder(start: Start) -> None:
    sim, address = await start(rate=1000)
    async with open_websocket_url(address.spot_ws + TRADES) as ws:
        await messages(ws, 2)
        sim.inject(Fault(FaultKind.REORDER, count=1))
        ids = await _trade_ids(ws, 300)
    descents = [i for i, (a, b) in enumerate(itertools.pairwise(ids)) if b < a]
    assert len(descents) == 1
    i = descents[0]
    assert ids[i] == ids[i + 1] + 1  # an adjacent pair swapped, nothing lost
    assert sorted(ids) == list(range(min(ids), max(ids) + 1))


async def test_malformed_frame_and_connection_stays_up(start: Start) -> None:
    sim, address = await start(rate=1000)
    async with open_websocket_url(address.spot_ws + "/stream?streams=btcusdt@trade") as ws:
        await messages(ws, 2)
        sim.inject(Fault(FaultKind.MALFORMED, count=1))
        raw = [await ws.get_message() for _ in range(300)]
    bad = []
    for text in raw:
        try:
            orjson.loads(text)
        except orjson.JSONDecodeError:
            bad.append(text)
    assert len(bad) == 1
    assert bad[0].startswith('{"stream":"btcusdt@trade","data":{"e":"trade"')


async def test_server_shutdown_notice_then_close(start: Start) -> None:
    sim, address = await start()
    async with raw_client(address.spot_port, "/stream?streams=btcusdt@trade") as client:
        await client.message()
        sim.inject(Fault(FaultKind.SERVER_SHUTDOWN, seconds=0.2))
        notice = None
        with trio.fail_after(5):
            while (text := await client.message()) is not None:
                if orjson.loads(text)["stream"] == "!serverShutdown":
                    notice = orjson.loads(text)
                    noticed = trio.current_time()
                    break
            close = await client.closed()
    assert close is not None
    assert close.code == 1001
    assert trio.current_time() - noticed >= 0.15  # the grace period before the close
    assert notice is not None
    assert list(notice["data"]) == ["e", "E"]
    assert notice["data"]["e"] == "serverShutdown"
    assert isinstance(notice["data"]["E"], int)


async def test_server_shutdown_on_raw_stream(start: Start) -> None:
    sim, address = await start()
    async with open_websocket_url(address.spot_ws + TRADES) as ws:
        await messages(ws, 1)
        sim.inject(Fault(FaultKind.SERVER_SHUTDOWN, seconds=5))
        with trio.fail_after(5):
            while (msg := orjson.loads(await ws.get_message()))["e"] != "serverShutdown":
                pass
    assert list(msg) == ["e", "E"]


async def test_connection_limit_by_config(start: Start) -> None:
    _, address = await start(max_connection_s=0.3)
    opened = trio.current_time()
    async with raw_client(address.spot_port, TRADES) as client:
        with trio.fail_after(5):
            close = await client.closed()
    assert close is not None
    assert close.reason == "connection limit reached"
    assert 0.25 < trio.current_time() - opened < 2


async def test_connection_limit_fault_applies_to_open_connections(start: Start) -> None:
    sim, address = await start()
    async with raw_client(address.futures_port, "/public/ws/btcusdt@bookTicker") as client:
        await client.message()
        sim.inject(Fault(FaultKind.CONNECTION_LIMIT, market=Market.FUTURES, seconds=0.1))
        with trio.fail_after(5):
            close = await client.closed()
    assert close is not None


async def test_weight_limit_429_then_418(start: Start, http: httpx.AsyncClient) -> None:
    from mdp.simulator import RestLimits

    _, address = await start(rest=RestLimits(spot_weight=50, ban_after=2, ban_s=30))
    url = address.spot_rest + "/api/v3/depth?symbol=BTCUSDT&limit=5"  # weight 5
    statuses = [(await http.get(url)).status_code for _ in range(10)]
    assert statuses == [200] * 10
    r = await http.get(url)
    assert r.status_code == 429
    assert r.json()["code"] == -1003
    assert int(r.headers["retry-after"]) >= 1
    assert r.headers["x-mbx-used-weight-1m"] == "50"
    assert (await http.get(url)).status_code == 429
    r = await http.get(url)
    assert r.status_code == 418
    assert 1 <= int(r.headers["retry-after"]) <= 30
    assert (await http.get(url)).status_code == 418  # banned, whatever the weight


async def test_forced_http_faults_through_control(start: Start, http: httpx.AsyncClient) -> None:
    _, address = await start()
    control = address.futures_rest + "/_sim/fault"
    r = await http.post(control, json={"kind": "http_429", "count": 1, "market": "futures"})
    assert r.json() == {"applied": 1, "fault": "http_429"}
    await http.post(control, json={"kind": "http_418", "count": 1, "market": "futures"})
    url = address.futures_rest + "/fapi/v1/exchangeInfo"
    first, second, third = [await http.get(url) for _ in range(3)]
    assert (first.status_code, second.status_code, third.status_code) == (429, 418, 200)
    assert "retry-after" in first.headers
    assert "retry-after" in second.headers


async def test_control_rejects_bad_fault_with_the_key(
    start: Start, http: httpx.AsyncClient
) -> None:
    _, address = await start()
    r = await http.post(address.spot_rest + "/_sim/fault", json={"kind": "explode"})
    assert r.status_code == 400
    assert "kind" in r.json()["error"]
    r = await http.post(address.spot_rest + "/_sim/fault", json={"kind": "drop", "cnt": 1})
    assert r.status_code == 400
    assert "cnt" in r.json()["error"]


async def test_frame_faults_through_control(start: Start, http: httpx.AsyncClient) -> None:
    _, address = await start(rate=1000)
    async with open_websocket_url(address.spot_ws + TRADES) as ws:
        await messages(ws, 2)
        r = await http.post(address.spot_rest + "/_sim/fault", json={"kind": "drop", "count": 5})
        assert r.json()["applied"] == 1
        ids = await _trade_ids(ws, 200)
    assert max(b - a for a, b in itertools.pairwise(ids)) == 6


async def test_server_pings_and_closes_without_pong(start: Start) -> None:
    _, address = await start(ping_interval_s=0.1, pong_timeout_s=0.35)
    async with raw_client(address.spot_port, TRADES) as client:
        with trio.fail_after(5):
            ping = await client.next_event(Ping)
            opened = trio.current_time()
            close = await client.closed()
    assert ping.payload.isdigit()  # Binance-style: the payload is a timestamp
    assert close is not None
    assert close.reason == "no pong within the timeout"
    assert trio.current_time() - opened < 2


async def test_client_that_pongs_stays_connected(start: Start) -> None:
    _, address = await start(ping_interval_s=0.05, pong_timeout_s=0.2)
    async with open_websocket_url(address.spot_ws + TRADES) as ws:  # pongs automatically
        with trio.move_on_after(0.6):
            while True:
                await ws.get_message()
        assert not ws.closed


async def test_too_many_incoming_messages_disconnects(start: Start) -> None:
    _, address = await start(max_incoming_per_s=5)
    async with raw_client(address.spot_port, "/ws") as client:
        for i in range(12):  # however a second boundary splits them, one side has > 5
            await client.send(orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}).decode())
        with trio.fail_after(5):
            close = await client.closed()
    replies = [e.data for e in client.events if isinstance(e, Message)]
    assert 5 <= len(replies) < 12
    assert replies == [f'{{"result":[],"id":{i}}}' for i in range(len(replies))]
    assert close is not None
    assert close.reason == "too many incoming messages"


async def test_slow_client_is_cut_off(start: Start, http: httpx.AsyncClient) -> None:
    sim, address = await start(rate=20000, send_queue=2, symbols=["BTCUSDT"])
    streams = "btcusdt@trade/btcusdt@aggTrade/btcusdt@bookTicker"
    async with raw_client(address.spot_port, "/stream?streams=" + streams):
        with trio.fail_after(10):  # never read: the socket buffers fill, then the queue
            while not sim.stats()["connections"]["spot"]:  # noqa: ASYNC110 - polling counters
                await trio.sleep(0.01)
            while sim.stats()["connections"]["spot"]:  # noqa: ASYNC110 - polling counters
                await trio.sleep(0.05)
        stats = sim.stats()
        assert stats["close_reasons"] == {"slow client: send queue full": 1}, stats
        assert stats["counters"]["slow_disconnects"] == 1


async def test_scheduled_faults_from_config(start: Start) -> None:
    faults = [Fault(FaultKind.DISCONNECT, market=Market.SPOT, at_s=0.3)]
    _, address = await start(faults=faults)
    started = trio.current_time()
    async with raw_client(address.spot_port, TRADES) as client:
        with trio.fail_after(5):
            close = await client.closed()
    assert close is not None
    assert close.reason == "disconnect fault"
    assert trio.current_time() - started >= 0.25


_kinds = st.sampled_from(
    [FaultKind.DROP, FaultKind.DUPLICATE, FaultKind.REORDER, FaultKind.MALFORMED]
)


@given(
    plan=st.lists(st.tuples(_kinds, st.integers(1, 5)), max_size=6),
    sizes=st.lists(st.integers(0, 7), min_size=1, max_size=10),
)
def test_frame_faults_account_for_every_frame(
    plan: list[tuple[FaultKind, int]], sizes: list[int]
) -> None:
    """Seeded fault schedules: drops lose exactly their count, duplicates add exactly
    theirs, reorders and malformed frames keep the count, nothing else changes."""
    faults = FrameFaults()
    for kind, count in plan:
        faults.add(kind, count, None)
    n = 0
    out: list[tuple[str, bytes]] = []
    for size in sizes:
        batch = [("s", b'{"t":%d}' % (n + i)) for i in range(size)]
        n += size
        out += faults.apply(batch)
    applied = faults.applied
    held = 1 if faults._held is not None else 0
    expected = n - applied.get("drop", 0) + applied.get("duplicate", 0) - held
    assert len(out) == expected
    assert sum(1 for _, p in out if not p.endswith(b"}")) == applied.get("malformed", 0)


async def test_fault_aimed_at_the_next_connection(start: Start) -> None:
    sim, address = await start(rate=1000)
    assert sim.inject(Fault(FaultKind.DUPLICATE, count=1, next_connection=True)) == 0
    async with open_websocket_url(address.spot_ws + TRADES) as ws:
        first, second, third = await _trade_ids(ws, 3)
    assert first == second  # the new connection's first frame came twice
    assert third == first + 1


async def test_unsolicited_pongs_do_not_keep_a_connection_alive(start: Start) -> None:
    from wsproto.events import CloseConnection, Pong
    from wsproto.utilities import LocalProtocolError

    _, address = await start(ping_interval_s=0.1, pong_timeout_s=0.35)
    async with raw_client(address.spot_port, TRADES) as client:
        opened = trio.current_time()

        async def pong_forever() -> None:
            gone = (trio.BrokenResourceError, trio.ClosedResourceError, LocalProtocolError)
            with contextlib.suppress(*gone):
                while True:
                    await client.stream.send_all(client.ws.send(Pong(payload=b"hello")))
                    await trio.sleep(0.05)

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(pong_forever)
                close = await client.next_event(CloseConnection)  # not answered: no race
                nursery.cancel_scope.cancel()
    assert close is not None
    assert close.reason == "no pong within the timeout"
    assert trio.current_time() - opened < 2


def _applied(sim: Simulator) -> dict[str, int]:
    conns = sim.stats()["connections"]["spot"]
    return dict(conns[0]["faults_applied"]) if conns else {}


_wire_plan = st.lists(
    st.tuples(st.sampled_from([FaultKind.DROP, FaultKind.DUPLICATE]), st.integers(1, 4)),
    min_size=1,
    max_size=4,
)


@settings(max_examples=5, deadline=None)
@given(plan=_wire_plan)
async def test_seeded_fault_schedule_over_the_wire_matches_ground_truth(
    plan: list[tuple[FaultKind, int]],
) -> None:
    """Random drop/duplicate schedules on a live connection: what the client received is
    exactly the ground truth minus the drops plus the duplicates, id by id."""
    sim = Simulator(SimulatorConfig(symbols=["BTCUSDT"], futures_symbols=[], rate=1000))
    async with trio.open_nursery() as nursery:
        address = await nursery.start(sim.serve)
        async with open_websocket_url(address.spot_ws + TRADES) as ws:
            await messages(ws, 1)
            for kind, count in plan:
                sim.inject(Fault(kind, count=count))
            total = sum(c for _, c in plan)
            with trio.fail_after(10):
                while sum(_applied(sim).values()) < total:  # noqa: ASYNC110 - polling
                    await trio.sleep(0.01)
                target = sim.trades("BTCUSDT")[-1].id  # every faulted frame is older
                ids = [m["t"] for m in await messages(ws, 1)]
                while ids[-1] < target + 5:
                    ids.append((await messages(ws, 1))[0]["t"])
        nursery.cancel_scope.cancel()
    truth = [t.id for t in sim.trades("BTCUSDT", from_id=ids[0], limit=ids[-1] - ids[0] + 1)]
    dropped = sum(c for k, c in plan if k is FaultKind.DROP)
    duplicated = sum(c for k, c in plan if k is FaultKind.DUPLICATE)
    assert len(set(truth) - set(ids)) == dropped
    assert len(ids) - len(set(ids)) == duplicated
    assert sorted(set(ids)) == [i for i in truth if i in set(ids)]


async def test_connection_attempt_limit_answers_429(start: Start) -> None:
    from wsproto.events import RejectConnection, Request

    _, address = await start(max_connect_attempts=3, connect_window_s=60)
    for _ in range(3):
        async with raw_client(address.spot_port, TRADES):
            pass
    stream = await trio.open_tcp_stream("127.0.0.1", address.spot_port)
    async with stream:
        client = RawClient(stream)
        await stream.send_all(client.ws.send(Request(host="127.0.0.1", target=TRADES)))
        with trio.fail_after(5):
            reject = await client.next_event(RejectConnection)
    assert reject.status_code == 429
    headers = dict(reject.headers)
    assert 1 <= int(headers[b"retry-after"]) <= 60
