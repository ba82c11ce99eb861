"""USD-M futures: the /public and /market routes, their frames (depth with ``pu``,
bookTicker, aggTrade, markPrice with funding, forceOrder) and the fapi REST endpoints."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import orjson
import trio
from trio_websocket import open_websocket_url

from mdp.simulator import Market
from tests.simulator.conftest import START_MS, Start, data_of, is_number, on_step

_FUNDING_MS = 8 * 3600 * 1000


async def test_public_route_depth_and_book_ticker(start: Start) -> None:
    _, address = await start()
    url = address.futures_ws + "/public/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker"
    async with open_websocket_url(url) as ws:
        depth = await data_of(ws, 4, "btcusdt@depth@100ms")
        tickers = await data_of(ws, 3, "btcusdt@bookTicker")
    for d in depth:
        assert list(d) == ["e", "E", "T", "s", "U", "u", "pu", "b", "a"]
        assert d["T"] <= d["E"]
        assert d["U"] <= d["u"]
        assert d["pu"] < d["U"]
        for price, qty in d["b"] + d["a"]:
            assert on_step(price, "0.10")
            assert on_step(qty, "0.001")
    for prev, nxt in itertools.pairwise(depth):
        assert nxt["pu"] == prev["u"]
    for t in tickers:
        assert list(t) == ["e", "u", "E", "T", "s", "b", "B", "a", "A"]
        assert t["e"] == "bookTicker"
        assert all(is_number(t[k]) for k in "bBaA")


# Seed 4 with the clock 10 ms before a second: marks and liquidations within ~1 s.
FAST_SECONDS = {"rate": 200, "seed": 4, "start_ms": START_MS + 990}


async def test_market_route_agg_mark_force(start: Start) -> None:
    _, address = await start(**FAST_SECONDS)
    streams = "btcusdt@aggTrade/btcusdt@markPrice@1s/btcusdt@forceOrder"
    need = {"btcusdt@aggTrade": 5, "btcusdt@markPrice@1s": 2, "btcusdt@forceOrder": 1}
    got: dict[str, list[Any]] = {name: [] for name in need}
    async with open_websocket_url(address.futures_ws + "/market/stream?streams=" + streams) as ws:
        with trio.fail_after(10):
            while any(len(got[name]) < n for name, n in need.items()):
                msg = orjson.loads(await ws.get_message())
                got[msg["stream"]].append(msg["data"])
    aggs, marks, force = (got[name] for name in need)
    for a in aggs:
        assert list(a) == ["e", "E", "s", "a", "p", "q", "f", "l", "T", "m"]  # no "M" on futures
        assert len(a["p"].split(".")[1]) == 2  # futures renders the tick's precision
    for m in marks:
        assert list(m) == ["e", "E", "s", "p", "i", "P", "r", "T"]
        assert m["e"] == "markPriceUpdate"
        assert all(is_number(m[k]) for k in "piPr")
        assert m["T"] % _FUNDING_MS == 0
        assert m["T"] > m["E"]
    assert marks[1]["E"] - marks[0]["E"] == 1000
    order = force[0]["o"]
    assert force[0]["e"] == "forceOrder"
    assert list(order) == ["s", "S", "o", "f", "q", "p", "ap", "X", "l", "z", "T"]
    assert order["S"] in ("BUY", "SELL")
    assert is_number(order["q"])


async def test_unrouted_market_stream_is_acked_then_silent(start: Start) -> None:
    _, address = await start(rate=500)
    async with open_websocket_url(address.futures_ws + "/ws") as ws:
        await ws.send_message(
            '{"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@depth@100ms"],"id":1}'
        )
        await ws.send_message('{"method":"LIST_SUBSCRIPTIONS","id":2}')
        seen: list[dict[str, object]] = []
        with trio.move_on_after(0.6):
            while True:
                seen.append(orjson.loads(await ws.get_message()))
    assert seen[0] == {"result": None, "id": 1}
    assert {"result": ["btcusdt@aggTrade", "btcusdt@depth@100ms"], "id": 2} in seen
    events = [m.get("e") for m in seen if "e" in m]
    assert "depthUpdate" in events  # the public stream flows
    assert "aggTrade" not in events  # the /market one is silent


async def test_public_route_silences_market_streams(start: Start) -> None:
    _, address = await start(rate=500)
    url = address.futures_ws + "/public/ws/btcusdt@aggTrade"
    async with open_websocket_url(url) as ws:
        with trio.move_on_after(0.4) as scope:
            await ws.get_message()
    assert scope.cancelled_caught


async def test_fapi_rest(start: Start, http: httpx.AsyncClient) -> None:
    sim, address = await start()
    with trio.fail_after(5):
        while len(sim.agg_trades("BTCUSDT", Market.FUTURES)) < 3:  # noqa: ASYNC110 - polling the model
            await trio.sleep(0.01)
    info = (await http.get(address.futures_rest + "/fapi/v1/exchangeInfo")).json()
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    assert (btc["contractType"], btc["quoteAsset"], btc["pricePrecision"]) == (
        "PERPETUAL",
        "USDT",
        2,
    )
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert (filters["PRICE_FILTER"]["tickSize"], filters["LOT_SIZE"]["stepSize"]) == (
        "0.10",
        "0.001",
    )
    r = await http.get(address.futures_rest + "/fapi/v1/depth?symbol=BTCUSDT&limit=100")
    book = r.json()
    assert list(book) == ["lastUpdateId", "E", "T", "bids", "asks"]
    assert r.headers["x-mbx-used-weight-1m"] == str(1 + 5)
    r = await http.get(address.futures_rest + "/fapi/v1/depth?symbol=BTCUSDT&limit=7")
    assert r.status_code == 400
    r = await http.get(address.futures_rest + "/fapi/v1/aggTrades?symbol=BTCUSDT&limit=3")
    assert [list(a) for a in r.json()] == [["a", "p", "q", "f", "l", "T", "m"]] * 3


async def test_all_market_streams(start: Start) -> None:
    _, address = await start(**FAST_SECONDS)
    url = address.futures_ws + "/market/stream?streams=!markPrice@arr@1s/!forceOrder@arr"
    got: dict[str, list[object]] = {"!markPrice@arr@1s": [], "!forceOrder@arr": []}
    async with open_websocket_url(url) as ws:
        with trio.fail_after(10):
            while not all(got.values()):
                msg = orjson.loads(await ws.get_message())
                got[msg["stream"]].append(msg["data"])
    updates: list[dict[str, str]] = got["!markPrice@arr@1s"][0]  # type: ignore[assignment]
    force: list[dict[str, dict[str, str]]] = got["!forceOrder@arr"]  # type: ignore[assignment]
    assert [u["s"] for u in updates] == ["BTCUSDT", "ETHUSDT"]  # every symbol, one frame
    assert len({u["E"] for u in updates}) == 1
    assert all(u["e"] == "markPriceUpdate" for u in updates)
    assert force[0]["e"] == "forceOrder"
    assert force[0]["o"]["s"] in ("BTCUSDT", "ETHUSDT")


def test_subscriptions_never_change_the_market() -> None:
    """What is rendered depends on who subscribed; what happens must not."""
    from mdp.simulator._instruments import instruments_for
    from mdp.simulator._market import SymbolMarket

    inst = instruments_for(Market.FUTURES, ["BTCUSDT"])[0]
    runs = []
    for extra in ([], ["btcusdt@forceOrder", "btcusdt@markPrice@1s"]):
        m = SymbolMarket(inst, seed=5, rate=1000, start_ms=1_770_000_000_000, history=10_000,
                         checkpoints=0)  # fmt: skip
        m.set_wanted(frozenset(["btcusdt@aggTrade", *extra]))
        out: list[tuple[str, bytes]] = []
        m.advance(5000, out)  # five simulated seconds
        runs.append([p for s, p in out if s == "btcusdt@aggTrade"])
    assert runs[0] == runs[1]
