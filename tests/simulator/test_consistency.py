"""The market is self-consistent: a REST snapshot plus the following diffs, applied by the
documented sync rules (spot U/u, futures pu), reproduces the simulator's own book at every
depth frame; trades carry consecutive ids equal to the ground truth; same seed, same frames."""

from __future__ import annotations

from decimal import Decimal

import httpx
import orjson
import trio
from hypothesis import given, settings
from hypothesis import strategies as st
from trio_websocket import open_websocket_url

from mdp.simulator import Market, Simulator
from mdp.simulator._instruments import instruments_for
from mdp.simulator._market import SymbolMarket, stream_names
from tests.simulator.conftest import START_MS, Start, data_of

Levels = dict[Decimal, str]


def _apply(book: tuple[Levels, Levels], event: dict[str, object]) -> None:
    for side, key in ((book[0], "b"), (book[1], "a")):
        for price, qty in event[key]:  # type: ignore[attr-defined]
            if Decimal(qty) == 0:
                side.pop(Decimal(price), None)
            else:
                side[Decimal(price)] = qty


def _as_truth(book: tuple[Levels, Levels]) -> tuple[list[str], list[str]]:
    bids = [q for _, q in sorted(book[0].items(), reverse=True)]
    asks = [q for _, q in sorted(book[1].items())]
    return bids, asks


def _truth_levels(
    sim: Simulator, symbol: str, uid: int, market: Market
) -> tuple[list[str], list[str]]:
    truth = sim.book(symbol, uid, market)
    assert truth is not None, f"no checkpoint at {uid}"
    return [q for _, q in truth.bids], [q for _, q in truth.asks]


async def _synced_events(
    url: str, rest: str, http: httpx.AsyncClient, n: int
) -> tuple[dict[str, object], list[dict[str, object]]]:
    async with open_websocket_url(url) as ws:
        buffered = [orjson.loads(await ws.get_message())]  # step 1: buffer from the start
        snapshot = (await http.get(rest)).json()
        with trio.fail_after(10):
            while len(buffered) < n or buffered[-1]["u"] <= snapshot["lastUpdateId"]:
                buffered.append(orjson.loads(await ws.get_message()))
    return snapshot, buffered


async def test_spot_snapshot_plus_diffs_equals_truth(start: Start, http: httpx.AsyncClient) -> None:
    sim, address = await start(rate=1000)
    snapshot, events = await _synced_events(
        address.spot_ws + "/ws/btcusdt@depth@100ms",
        address.spot_rest + "/api/v3/depth?symbol=BTCUSDT&limit=5000",
        http,
        8,
    )
    last = snapshot["lastUpdateId"]
    assert events[0]["U"] <= last  # the snapshot is not older than the buffer
    book: tuple[Levels, Levels] = (
        {Decimal(p): q for p, q in snapshot["bids"]},
        {Decimal(p): q for p, q in snapshot["asks"]},
    )
    assert _as_truth(book) == _truth_levels(sim, "BTCUSDT", last, Market.SPOT)
    live = [e for e in events if e["u"] > last]
    assert live[0]["U"] <= last + 1 <= live[0]["u"]
    local = last
    for i, event in enumerate(live):
        assert event["U"] <= local + 1  # rule 5: U > local + 1 would be a gap
        if i:
            assert event["U"] == local + 1  # consecutive after the bridge
        _apply(book, event)
        local = event["u"]
        assert _as_truth(book) == _truth_levels(sim, "BTCUSDT", local, Market.SPOT)
        best_bid, best_ask = max(book[0]), min(book[1])
        assert best_bid < best_ask


async def test_futures_snapshot_plus_diffs_equals_truth(
    start: Start, http: httpx.AsyncClient
) -> None:
    sim, address = await start(rate=1000)
    snapshot, events = await _synced_events(
        address.futures_ws + "/public/ws/ethusdt@depth@100ms",
        address.futures_rest + "/fapi/v1/depth?symbol=ETHUSDT&limit=1000",
        http,
        8,
    )
    last = snapshot["lastUpdateId"]
    live = [e for e in events if e["u"] >= last]
    first = live[0]
    assert first["U"] <= last <= first["u"] or first["pu"] == last
    book: tuple[Levels, Levels] = (
        {Decimal(p): q for p, q in snapshot["bids"]},
        {Decimal(p): q for p, q in snapshot["asks"]},
    )
    prev_u = None
    for event in live:
        if prev_u is not None:
            assert event["pu"] == prev_u
        _apply(book, event)
        prev_u = event["u"]
        assert _as_truth(book) == _truth_levels(sim, "ETHUSDT", event["u"], Market.FUTURES)


async def test_trades_and_aggs_equal_ground_truth(start: Start) -> None:
    sim, address = await start(rate=1000)
    url = address.spot_ws + "/stream?streams=ethusdt@trade/ethusdt@aggTrade"
    async with open_websocket_url(url) as ws:
        got = await data_of(ws, 300)
    trades = [d for d in got if d["e"] == "trade"]
    aggs = [d for d in got if d["e"] == "aggTrade"]
    ids = [t["t"] for t in trades]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    truth = {t.id: t for t in sim.trades("ETHUSDT")}
    for t in trades:
        row = truth[t["t"]]
        assert (row.price, row.qty, row.time_ms, row.buyer_is_maker) == (
            t["p"],
            t["q"],
            t["T"],
            t["m"],
        )
    agg_truth = {a.id: a for a in sim.agg_trades("ETHUSDT")}
    for a in aggs:
        row2 = agg_truth[a["a"]]
        assert (row2.first_id, row2.last_id, row2.qty) == (a["f"], a["l"], a["q"])
        covered = [truth[i] for i in range(a["f"], a["l"] + 1)]
        assert {c.price for c in covered} == {a["p"]}
        assert sum(Decimal(c.qty) for c in covered) == Decimal(a["q"])


def _frames(seed: int, market: Market, steps: int) -> list[tuple[str, bytes]]:
    inst = instruments_for(market, ["BTCUSDT"])[0]
    m = SymbolMarket(inst, seed=seed, rate=1000, start_ms=START_MS, history=10_000, checkpoints=50)
    m.set_wanted(frozenset(stream_names(inst)))
    out: list[tuple[str, bytes]] = []
    for until in range(100, steps + 1, 100):  # scheduling in chunks must not matter
        m.advance(until, out)
    return out


def test_same_seed_same_frames() -> None:
    for market in Market:
        a, b = _frames(7, market, 3000), _frames(7, market, 3000)
        assert a == b
        assert len(a) > 3000
        assert _frames(8, market, 3000) != a


async def test_same_seed_same_frames_over_the_wire(start: Start) -> None:
    """Two simulators with one seed send, byte for byte, the frames the sans-I/O model
    renders for that seed (matched by trade id: when each client joined does not matter)."""
    inst = instruments_for(Market.SPOT, ["BTCUSDT"])[0]
    model = SymbolMarket(inst, seed=3, rate=500, start_ms=START_MS, history=10_000, checkpoints=0)
    model.set_wanted(frozenset(["btcusdt@trade"]))
    expected: dict[int, bytes] = {}
    for _ in range(2):
        _, address = await start(seed=3, rate=500)
        async with open_websocket_url(address.spot_ws + "/ws/btcusdt@trade") as ws:
            got = [(await ws.get_message()).encode() for _ in range(60)]
        last_id = orjson.loads(got[-1])["t"]
        while not expected or max(expected) < last_id:
            out: list[tuple[str, bytes]] = []
            model.advance(model.step + 100, out)
            expected.update((orjson.loads(p)["t"], p) for _, p in out)
        assert got == [expected[orjson.loads(g)["t"]] for g in got]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), market=st.sampled_from(list(Market)), rate=st.integers(1, 5000))
def test_model_invariants(seed: int, market: Market, rate: int) -> None:
    """For any seed: book never crossed, every level positive and on the book's grid,
    every depth frame's ``u`` checkpointed, diffs from the start reproduce each checkpoint."""
    inst = instruments_for(market, ["ETHUSDT"])[0]
    m = SymbolMarket(
        inst, seed=seed, rate=rate, start_ms=START_MS, history=10_000, checkpoints=1000
    )
    m.set_wanted(frozenset(stream_names(inst)))
    base = m.checkpoints.get(m.update_id)
    assert base is not None
    book = ({Decimal(inst.price.render(p)): inst.qty.render(q) for p, q in base.bids},
            {Decimal(inst.price.render(p)): inst.qty.render(q) for p, q in base.asks})  # fmt: skip
    stream = stream_names(inst)[2]  # the first depth stream
    for _ in range(10):
        out: list[tuple[str, bytes]] = []
        m.advance(m.step + 200, out)
        b = m.book
        assert 0 < b.best_bid < b.best_ask
        assert b.best_bid == max(b.bids)
        assert b.best_ask == min(b.asks)
        assert all(q > 0 for q in b.bids.values())
        assert all(q > 0 for q in b.asks.values())
        assert set(b.bids).isdisjoint(b.asks)
        assert max(b.bids) < min(b.asks)
        for name, payload in out:
            if name != stream:
                continue
            event = orjson.loads(payload)
            _apply(book, event)
            cp = m.checkpoints.get(event["u"])
            assert cp is not None
            assert _as_truth(book) == (
                [inst.qty.render(q) for _, q in cp.bids],
                [inst.qty.render(q) for _, q in cp.asks],
            )
