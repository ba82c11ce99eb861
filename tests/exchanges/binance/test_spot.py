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
