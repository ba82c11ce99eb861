"""USD-M futures: routed /market and /public groups, the pu sync rule, and the liveness
check catching a /market stream subscribed on the unrouted URL (acked, then silent)."""

from __future__ import annotations

import trio
from prometheus_client import REGISTRY

from mdp.model import BestBidOffer, FundingRate, Liquidation, MarkPrice, SourceState
from mdp.simulator import Fault, FaultKind, Market, Simulator
from tests.exchanges.binance._harness import group_spec, sim_config, start

SYMBOLS = ["BTCUSDT", "ETHUSDT"]


def _market(address):  # type: ignore[no-untyped-def]
    return group_spec(
        "market",
        address,
        market="perpetual",
        streams=["aggTrade", "markPrice@1s", "forceOrder"],
    )


def _public(address):  # type: ignore[no-untyped-def]
    return group_spec("public", address, market="perpetual", streams=["depth@100ms", "bookTicker"])


async def test_routed_groups_trades_books_funding(nursery: trio.Nursery) -> None:
    h = await start(nursery, Simulator(sim_config()), _market, _public)
    assert h.group("market").url.split("?")[0].endswith("/market/stream")
    assert h.group("public").url.split("?")[0].endswith("/public/stream")
    await h.wait_for(lambda: all(len(h.trade_ids(s)) > 100 for s in SYMBOLS))
    h.sim.inject(Fault(FaultKind.DROP, count=5, market=Market.FUTURES, stream="btcusdt@aggTrade"))
    h.sim.inject(
        Fault(FaultKind.DROP, count=2, market=Market.FUTURES, stream="ethusdt@depth@100ms")
    )
    await h.wait_for(lambda: h.collected.resyncs != [])
    marks = {s: h.max_id(s) + 100 for s in SYMBOLS}
    await h.wait_for(lambda: all(h.max_id(s) >= marks[s] for s in SYMBOLS))
    await h.wait_for(
        lambda: (
            any(isinstance(r, FundingRate) for r in h.collected.records)
            and any(isinstance(r, Liquidation) for r in h.collected.records)
        )
    )
    await h.settle(SYMBOLS, Market.FUTURES, agg=True)
    for symbol in SYMBOLS:
        h.assert_trades_equal_truth(symbol, Market.FUTURES, agg=True)
        h.assert_books_match(symbol, Market.FUTURES)
    records = h.collected.records
    mark = next(r for r in records if isinstance(r, MarkPrice))
    assert mark.instrument.symbol in ("BTC/USDT:USDT", "ETH/USDT:USDT")
    bbo = next(r for r in records if isinstance(r, BestBidOffer))
    assert bbo.exchange_time_ns is not None  # futures bookTicker carries E
    liq = next(r for r in records if isinstance(r, Liquidation))
    assert "sampled" in liq.quality.reasons
    assert not [s for s in h.collected.statuses if s.state is SourceState.SILENT]


async def test_unrouted_market_stream_is_detected_silent(nursery: trio.Nursery) -> None:
    h = await start(
        nursery,
        Simulator(sim_config()),
        lambda a: group_spec(
            "unrouted",
            a,
            market="perpetual",
            route="unrouted",
            symbols=["BTCUSDT"],
            streams=["aggTrade", "bookTicker"],
        ),
    )
    await h.wait_for(
        lambda: any(s.state is SourceState.SILENT for s in h.collected.statuses), bound_s=10
    )
    silent = {s.stream for s in h.collected.statuses if s.state is SourceState.SILENT}
    assert silent == {"btcusdt@aggTrade"}  # acknowledged, then nothing
    assert h.group("unrouted").url.split("?")[0].endswith(f":{h.address.futures_port}/stream")
    assert any(r.kind == "bbo" for r in h.collected.records)  # the /public one works
    labels = {"market": "perpetual", "state": "silent"}
    assert REGISTRY.get_sample_value("mdp_collector_liveness_events_total", labels) >= 1
    health = {"market": "perpetual", "stream": "btcusdt@aggTrade"}
    assert REGISTRY.get_sample_value("mdp_collector_stream_healthy", health) == 0
