"""Spot wire-format conformance: every stream and endpoint has the reference's field names
and types (numbers as strings, ms times as ints, ``m`` a bool), on the instrument's ticks."""

from __future__ import annotations

import itertools

import httpx
import orjson
from trio_websocket import open_websocket_url

from tests.simulator.conftest import START_MS, Start, data_of, is_number, messages, on_step


async def test_trade_stream_raw(start: Start) -> None:
    _, address = await start()
    async with open_websocket_url(address.spot_ws + "/ws/btcusdt@trade") as ws:
        frames = await messages(ws, 20)
    for f in frames:
        assert list(f) == ["e", "E", "s", "t", "p", "q", "T", "m", "M"]
        assert f["e"] == "trade"
        assert f["s"] == "BTCUSDT"
        assert is_number(f["p"])
        assert is_number(f["q"])
        assert on_step(f["p"], "0.01")
        assert on_step(f["q"], "0.00001")
        assert len(f["p"].split(".")[1]) == 8  # spot renders 8 decimals
        assert isinstance(f["m"], bool)
        assert f["M"] is True
        assert f["E"] >= f["T"] >= START_MS
    ids = [f["t"] for f in frames]
    assert ids == list(range(ids[0], ids[0] + len(ids)))


async def test_agg_trade_stream(start: Start) -> None:
    _, address = await start()
    async with open_websocket_url(address.spot_ws + "/ws/ethusdt@aggTrade") as ws:
        frames = await messages(ws, 20)
    for f in frames:
        assert list(f) == ["e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M"]
        assert f["e"] == "aggTrade"
        assert f["s"] == "ETHUSDT"
        assert on_step(f["p"], "0.01")
        assert on_step(f["q"], "0.0001")
        assert f["f"] <= f["l"]
    assert [f["a"] for f in frames] == list(range(frames[0]["a"], frames[0]["a"] + 20))
    for prev, nxt in itertools.pairwise(frames):
        assert nxt["f"] == prev["l"] + 1  # aggregates cover every raw trade once


async def test_depth_and_book_ticker_combined(start: Start) -> None:
    _, address = await start()
    url = address.spot_ws + "/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker"
    async with open_websocket_url(url) as ws:
        depth = await data_of(ws, 4, "btcusdt@depth@100ms")
        tickers = await data_of(ws, 5, "btcusdt@bookTicker")
    for d in depth:
        assert list(d) == ["e", "E", "s", "U", "u", "b", "a"]
        assert d["e"] == "depthUpdate"
        assert d["U"] <= d["u"]
        for price, qty in d["b"] + d["a"]:
            assert is_number(price)
            assert is_number(qty)
    for prev, nxt in itertools.pairwise(depth):
        assert nxt["U"] == prev["u"] + 1
        assert nxt["E"] - prev["E"] >= 100
    for t in tickers:
        assert list(t) == ["u", "s", "b", "B", "a", "A"]  # no event time, as on Binance
        assert all(is_number(t[k]) for k in "bBaA")
        assert float(t["b"]) < float(t["a"])


async def test_subscribe_unsubscribe_list(start: Start) -> None:
    _, address = await start()
    async with open_websocket_url(address.spot_ws + "/ws") as ws:
        await ws.send_message(
            '{"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@aggTrade"],"id":1}'
        )
        replies = [m for m in await messages(ws, 1)]
        assert replies == [{"result": None, "id": 1}]
        await ws.send_message('{"method":"LIST_SUBSCRIPTIONS","id":2}')
        await ws.send_message('{"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":3}')
        await ws.send_message('{"method":"LIST_SUBSCRIPTIONS","id":"four"}')
        got = []
        while len(got) < 3:
            msg = (await messages(ws, 1))[0]
            if "id" in msg:
                got.append(msg)
            else:
                assert msg["e"] in ("trade", "aggTrade")  # raw payloads, no wrapper
        assert got == [
            {"result": ["btcusdt@trade", "btcusdt@aggTrade"], "id": 2},
            {"result": None, "id": 3},
            {"result": ["btcusdt@aggTrade"], "id": "four"},
        ]


async def test_request_errors(start: Start) -> None:
    _, address = await start()
    async with open_websocket_url(address.spot_ws + "/ws") as ws:
        await ws.send_message("{not json")
        assert (await messages(ws, 1))[0]["code"] == 3
        await ws.send_message('{"method":"SUBSCRIBE","params":["nosuch@trade"],"id":5}')
        reply = (await messages(ws, 1))[0]
        assert reply["code"] == 2
        assert reply["id"] == 5
        assert "nosuch@trade" in reply["msg"]
        await ws.send_message('{"method":"FLY","id":6}')
        reply = (await messages(ws, 1))[0]
        assert reply["code"] == 2
        assert "FLY" in reply["msg"]
        await ws.send_message('{"method":"SET_PROPERTY","params":["combined",true],"id":7}')
        await ws.send_message('{"method":"GET_PROPERTY","params":["combined"],"id":8}')
        assert await messages(ws, 2) == [{"result": None, "id": 7}, {"result": True, "id": 8}]


async def test_rest_exchange_info_and_depth(start: Start, http: httpx.AsyncClient) -> None:
    _, address = await start()
    info = (await http.get(address.spot_rest + "/api/v3/exchangeInfo")).json()
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    assert (btc["baseAsset"], btc["quoteAsset"], btc["status"]) == ("BTC", "USDT", "TRADING")
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    one = (await http.get(address.spot_rest + "/api/v3/exchangeInfo?symbol=ETHUSDT")).json()
    assert [s["symbol"] for s in one["symbols"]] == ["ETHUSDT"]

    r = await http.get(
        address.spot_rest + "/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 5}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-mbx-used-weight-1m"] == str(20 + 20 + 5)
    book = r.json()
    assert list(book) == ["lastUpdateId", "bids", "asks"]
    assert isinstance(book["lastUpdateId"], int)
    assert len(book["bids"]) == len(book["asks"]) == 5
    bids = [float(p) for p, _ in book["bids"]]
    asks = [float(p) for p, _ in book["asks"]]
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert bids[0] < asks[0]
    r = await http.get(
        address.spot_rest + "/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 1000}
    )
    assert r.headers["x-mbx-used-weight-1m"] == str(45 + 50)


async def test_rest_errors(start: Start, http: httpx.AsyncClient) -> None:
    _, address = await start()
    r = await http.get(address.spot_rest + "/api/v3/depth", params={"symbol": "NOPE"})
    assert (r.status_code, r.json()["code"]) == (400, -1121)
    r = await http.get(address.spot_rest + "/api/v3/depth")
    assert (r.status_code, r.json()["code"]) == (400, -1102)
    r = await http.get(address.spot_rest + "/api/v3/depth?symbol=BTCUSDT&limit=x")
    assert (r.status_code, r.json()["code"]) == (400, -1100)
    r = await http.get(address.spot_rest + "/fapi/v1/depth?symbol=BTCUSDT")
    assert r.status_code == 404  # futures endpoints live on the futures port


async def test_rest_backfill_equals_ground_truth(start: Start, http: httpx.AsyncClient) -> None:
    sim, address = await start(rate=1000)
    async with open_websocket_url(address.spot_ws + "/ws/btcusdt@trade") as ws:
        seen = await messages(ws, 50)
    first = seen[0]["t"]
    r = await http.get(
        address.spot_rest + "/api/v3/historicalTrades",
        params={"symbol": "BTCUSDT", "fromId": first, "limit": 50},
    )
    rows = r.json()
    assert r.headers["x-mbx-used-weight-1m"] == "25"
    assert list(rows[0]) == [
        "id",
        "price",
        "qty",
        "quoteQty",
        "time",
        "isBuyerMaker",
        "isBestMatch",
    ]
    assert [(t["id"], t["price"], t["qty"], t["time"], t["isBuyerMaker"]) for t in rows] == [
        (f["t"], f["p"], f["q"], f["T"], f["m"]) for f in seen
    ]
    truth = sim.trades("BTCUSDT", from_id=first, limit=50)
    assert [(t.id, t.price, t.qty, t.time_ms, t.buyer_is_maker) for t in truth] == [
        (f["t"], f["p"], f["q"], f["T"], f["m"]) for f in seen
    ]
    recent = (await http.get(address.spot_rest + "/api/v3/trades?symbol=BTCUSDT&limit=3")).json()
    assert len(recent) == 3
    assert recent[-1]["id"] >= seen[-1]["t"]

    aggs = sim.agg_trades("BTCUSDT")[5:15]
    r = await http.get(
        address.spot_rest + "/api/v3/aggTrades",
        params={"symbol": "BTCUSDT", "fromId": aggs[0].id, "limit": 10},
    )
    assert r.headers["x-mbx-used-weight-1m"] == str(25 + 25 + 4)
    body = r.json()
    assert list(body[0]) == ["a", "p", "q", "f", "l", "T", "m", "M"]
    assert [(a["a"], a["p"], a["q"], a["f"], a["l"]) for a in body] == [
        (a.id, a.price, a.qty, a.first_id, a.last_id) for a in aggs
    ]
    assert orjson.loads(orjson.dumps(body)) == body


async def test_time_unit_microsecond(start: Start) -> None:
    sim, address = await start()
    url = address.spot_ws + "/stream?streams=btcusdt@trade/btcusdt@depth@100ms&timeUnit=MICROSECOND"
    async with open_websocket_url(url) as ws:
        trades = await data_of(ws, 3, "btcusdt@trade")
        depth = await data_of(ws, 1, "btcusdt@depth@100ms")
    truth = {t.id: t for t in sim.trades("BTCUSDT")}
    for t in trades:
        assert t["T"] == truth[t["t"]].time_ms * 1000  # µs, exactly the ms time × 1000
        assert t["E"] % 1000 == 0
        assert t["E"] >= t["T"]
    assert depth[0]["E"] > 10**15
