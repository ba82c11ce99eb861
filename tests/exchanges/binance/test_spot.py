"""Spot against the simulator with no fault: trades and books are exactly the truth."""

from __future__ import annotations

import trio

from mdp.simulator import Simulator
from tests.exchanges.binance._harness import sim_config, start


async def test_clean_run_trades_and_books_equal_truth(nursery: trio.Nursery) -> None:
    h = await start(nursery, Simulator(sim_config()))
    await h.wait_for(lambda: len(h.trade_ids("BTCUSDT")) > 300 and h.collected.snapshots >= 2)
    await h.settle(["BTCUSDT", "ETHUSDT"])
    for symbol in ("BTCUSDT", "ETHUSDT"):
        h.assert_trades_equal_truth(symbol)
        h.assert_books_match(symbol)
    assert not h.collected.gaps
    assert any(r.kind == "bbo" for r in h.collected.records)


async def test_metrics_in_the_roles_metrics_endpoint(nursery: trio.Nursery) -> None:
    import httpx

    from mdp.metrics import serve_metrics

    h = await start(nursery, Simulator(sim_config()))
    await h.wait_for(lambda: len(h.trade_ids("BTCUSDT")) > 50)
    server = serve_metrics(h.supervisor, "collector-binance", "127.0.0.1:0")
    try:
        async with httpx.AsyncClient() as client:
            text = (await client.get(server.url)).text
    finally:
        await server.aclose()
    for name in (
        "mdp_collector_messages_total",
        "mdp_collector_lag_seconds_bucket",
        "mdp_collector_rest_weight_used",
        "mdp_node_up",
    ):
        assert name in text
