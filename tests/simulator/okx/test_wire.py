"""The OKX simulator speaks OKX v5 public: ``op`` acks and error events, text
``ping``/``pong``, the idle close, ``64008``, the connection and operation limits, the
books sequence with its checksum, and the REST endpoints; its ground truth agrees with
what it sent."""

from __future__ import annotations

import zlib
from typing import Any

import httpx
import orjson
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, RejectConnection, Request

from mdp.simulator import Fault, FaultKind
from mdp.simulator.okx import OkxAddress, OkxSimulator, OkxSimulatorConfig
from tests.simulator.conftest import START_MS, raw_client

PATH = "/ws/v5/public"


async def _start(nursery: trio.Nursery, **changes: Any) -> tuple[OkxSimulator, OkxAddress]:
    base: dict[str, Any] = {"symbols": ["BTC-USDT", "BTC-USDT-SWAP"], "rate": 400}
    base.update(changes)
    sim = OkxSimulator(OkxSimulatorConfig(start_ms=START_MS, **base))
    return sim, await nursery.start(sim.serve)


async def _handshake(port: int) -> int:
    """The HTTP status a WebSocket handshake gets (101 when accepted)."""
    ws = WSConnection(ConnectionType.CLIENT)
    async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
        await stream.send_all(ws.send(Request(host="127.0.0.1", target=PATH)))
        with trio.fail_after(2):
            while True:
                data = await stream.receive_some(65536)
                assert data, "closed without an answer"
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, AcceptConnection):
                        return 101
                    if isinstance(event, RejectConnection):
                        return event.status_code


def _sub(*args: dict[str, str], op: str = "subscribe") -> str:
    return orjson.dumps({"id": "7", "op": op, "args": list(args)}).decode()


async def _until(client: Any, test: Any, bound: float = 5.0) -> Any:
    with trio.fail_after(bound):
        while True:
            text = await client.message()
            assert text is not None, "connection closed"
            msg = text if text == "pong" else orjson.loads(text)
            if test(msg):
                return msg


async def test_acks_errors_and_ping_pong(nursery: trio.Nursery) -> None:
    sim, a = await _start(nursery)
    async with raw_client(a.port, PATH) as ws:
        await ws.send(
            _sub(
                {"channel": "trades", "instId": "BTC-USDT"},
                {"channel": "nope", "instId": "BTC-USDT"},
            )
        )
        ack = await _until(ws, lambda m: isinstance(m, dict) and m.get("event") == "subscribe")
        assert ack["arg"] == {"channel": "trades", "instId": "BTC-USDT"}
        assert ack["id"] == "7"
        err = await _until(ws, lambda m: isinstance(m, dict) and m.get("event") == "error")
        assert err["code"] == "60018"
        assert "channel:nope,instId:BTC-USDT" in err["msg"]
        await ws.send("not json")
        bad = await _until(ws, lambda m: isinstance(m, dict) and m.get("event") == "error")
        assert bad["code"] == "60012"
        await ws.send("ping")
        assert await _until(ws, lambda m: m == "pong") == "pong"
        push = await _until(ws, lambda m: isinstance(m, dict) and "data" in m)
        row = push["data"][0]
        assert push["arg"] == {"channel": "trades", "instId": "BTC-USDT"}
        assert set(row) >= {"tradeId", "px", "sz", "side", "ts", "count"}
        truth = {t.trade_id: t for t in sim.trades("BTC-USDT")}[int(row["tradeId"])]
        assert (truth.price, truth.size, str(truth.count)) == (row["px"], row["sz"], row["count"])


async def test_books_snapshot_then_updates_with_checksums(nursery: trio.Nursery) -> None:
    sim, a = await _start(nursery)
    async with raw_client(a.port, PATH) as ws:
        await ws.send(_sub({"channel": "books", "instId": "BTC-USDT"}))
        snap = await _until(ws, lambda m: isinstance(m, dict) and m.get("action") == "snapshot")
        book = {side: {lv[0]: lv[1] for lv in snap["data"][0][side]} for side in ("bids", "asks")}
        seq = snap["data"][0]["seqId"]
        assert snap["data"][0]["prevSeqId"] == -1
        for _ in range(10):
            up = await _until(ws, lambda m: isinstance(m, dict) and m.get("action") == "update")
            row = up["data"][0]
            assert row["prevSeqId"] == seq
            seq = row["seqId"]
            for side in ("bids", "asks"):
                for px, sz, _, _ in row[side]:
                    if float(sz):
                        book[side][px] = sz
                    else:
                        book[side].pop(px, None)
            bids = sorted(book["bids"].items(), key=lambda kv: -float(kv[0]))[:25]
            asks = sorted(book["asks"].items(), key=lambda kv: float(kv[0]))[:25]
            parts = [x for i in range(25) for lv in (bids, asks) if i < len(lv) for x in lv[i]]
            crc = zlib.crc32(":".join(parts).encode())
            assert row["checksum"] == (crc - (1 << 32) if crc >= 1 << 31 else crc)
            truth = sim.book("BTC-USDT", seq)
            assert truth is not None
            assert dict(truth.bids) == book["bids"]


async def test_idle_connection_is_closed_and_64008_notice(nursery: trio.Nursery) -> None:
    sim, a = await _start(nursery, idle_timeout_s=0.3)
    async with raw_client(a.port, PATH) as ws:
        with trio.fail_after(2):
            closed = await ws.closed()  # nothing subscribed, nothing sent: closed
        assert closed is not None
    assert "no traffic for 0.3 s" in sim.stats()["close_reasons"]
    async with raw_client(a.port, PATH) as ws:
        await ws.send(_sub({"channel": "trades", "instId": "BTC-USDT"}))
        await _until(ws, lambda m: isinstance(m, dict) and m.get("event") == "subscribe")
        sim.inject(Fault(FaultKind.SERVER_SHUTDOWN, seconds=0.2))
        notice = await _until(ws, lambda m: isinstance(m, dict) and m.get("event") == "notice")
        assert notice["code"] == "64008"
        with trio.fail_after(2):
            assert await ws.closed() is not None
    assert sim.stats()["close_reasons"]["service upgrade"] == 1


async def test_connection_and_operation_limits(nursery: trio.Nursery) -> None:
    sim, a = await _start(nursery, max_ops_per_hour=2)
    async with raw_client(a.port, PATH) as ws:
        for _ in range(3):
            await ws.send(_sub({"channel": "trades", "instId": "BTC-USDT"}))
        err = await _until(ws, lambda m: isinstance(m, dict) and m.get("event") == "error")
        assert err["code"] == "60014"
    rejected = 0
    for _ in range(4):  # 3 connection requests per second; the first one above counted
        status = await _handshake(a.port)
        rejected += status == 429
    assert rejected >= 1
    assert sim.stats()["counters"]["connect_rejected"] == rejected


async def test_liquidations_replay_first_and_funding(nursery: trio.Nursery) -> None:
    _, a = await _start(nursery, funding_push_ms=1000)
    async with raw_client(a.port, PATH) as ws:
        await ws.send(_sub({"channel": "liquidation-orders", "instType": "SWAP"},
                           {"channel": "funding-rate", "instId": "BTC-USDT-SWAP"}))  # fmt: skip
        first = await _until(
            ws,
            lambda m: (
                isinstance(m, dict)
                and m.get("arg", {}).get("channel") == "liquidation-orders"
                and "data" in m
            ),
        )
        assert int(first["data"][0]["details"][0]["ts"]) < START_MS  # old data, replayed
        funding = await _until(
            ws,
            lambda m: (
                isinstance(m, dict)
                and m.get("arg", {}).get("channel") == "funding-rate"
                and "data" in m
            ),
        )
        row = funding["data"][0]
        assert int(row["nextFundingTime"]) - int(row["fundingTime"]) == 8 * 3600 * 1000
        assert row["nextFundingRate"] == "" or row["nextFundingRate"].startswith(("0.", "-0."))


async def test_rest_endpoints(nursery: trio.Nursery) -> None:
    sim, a = await _start(nursery)
    await trio.sleep(0.3)
    async with httpx.AsyncClient(base_url=a.rest) as http:
        inst = (await http.get("/api/v5/public/instruments", params={"instType": "SWAP"})).json()
        assert inst["code"] == "0"
        assert inst["data"][0]["ctVal"] == "0.01"
        books = (
            await http.get("/api/v5/market/books", params={"instId": "BTC-USDT", "sz": "400"})
        ).json()
        row = books["data"][0]
        truth = sim.book("BTC-USDT", row["seqId"])
        assert truth is not None
        assert [(lv[0], lv[1]) for lv in row["bids"]] == list(truth.bids)
        page = (
            await http.get(
                "/api/v5/market/history-trades",
                params={"instId": "BTC-USDT", "type": "1", "limit": "100"},
            )
        ).json()["data"]
        ids = [int(r["tradeId"]) for r in page]
        assert ids == sorted(ids, reverse=True)
        older = (
            await http.get(
                "/api/v5/market/history-trades",
                params={"instId": "BTC-USDT", "after": str(ids[-1])},
            )
        ).json()["data"]
        assert int(older[0]["tradeId"]) == ids[-1] - int(page[-1]["count"])  # contiguous
        bad = await http.get("/api/v5/market/books", params={"instId": "NOPE"})
        assert bad.json()["code"] == "51001"


async def test_truth_trades_from_an_id_is_the_rest_of_the_tape(nursery: trio.Nursery) -> None:
    """``/_sim/truth/trades?fromId=`` gives what a reader polling the truth has not seen:
    every trade message from that id on, exactly the tail of the whole tape."""
    sim, a = await _start(nursery)
    async with httpx.AsyncClient(base_url=a.rest) as http:
        with trio.fail_after(5):
            while len(sim.trades("BTC-USDT")) < 20:  # noqa: ASYNC110 (a count, not an event)
                await trio.sleep(0.05)
        sim.hub.paused = True  # the tape holds still between the two reads
        await trio.sleep(0.05)
        everything = (await http.get("/_sim/truth/trades", params={"instId": "BTC-USDT"})).json()
        middle = everything[len(everything) // 2]["trade_id"]
        tail = await http.get(
            "/_sim/truth/trades", params={"instId": "BTC-USDT", "fromId": str(middle)}
        )
        assert tail.json() == [t for t in everything if t["trade_id"] >= middle]
        past = everything[-1]["trade_id"] + 1
        none = await http.get("/_sim/truth/trades", params={"instId": "BTC-USDT", "fromId": past})
        assert none.json() == []
        bad = await http.get("/_sim/truth/trades", params={"instId": "BTC-USDT", "fromId": "x"})
        assert bad.status_code == 400
