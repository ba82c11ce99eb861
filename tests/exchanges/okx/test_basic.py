"""SPOT and SWAP against the simulator: trades equal the ground truth, books equal its
checkpoints, SWAP sizes in base units, funding and liquidations as OKX means them."""

from __future__ import annotations

from decimal import Decimal

import trio

from mdp.model import BestBidOffer, FundingRate
from mdp.simulator.okx import OkxSimulator
from tests.exchanges.okx._harness import SPOT, SWAP, group_spec, sim_config, start


async def test_spot_trades_and_books_equal_truth(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config()))
    await h.wait_for(lambda: all(len(h.trade_ids(s)) > 150 for s in (SPOT, "ETH-USDT")))
    await h.settle([SPOT, "ETH-USDT"])
    for symbol in (SPOT, "ETH-USDT"):
        h.assert_trades_equal_truth(symbol)
        h.assert_books_match(symbol)
    assert not h.collected.gaps
    bbo = [r for r in h.collected.records if isinstance(r, BestBidOffer)]
    assert bbo
    assert all(b.bid_price < b.ask_price for b in bbo)
    assert sum(b.checksums for b in h.state().books.values()) > 10  # CRC32 verified


async def test_swap_sizes_funding_and_liquidations(nursery: trio.Nursery) -> None:
    h = await start(
        nursery,
        OkxSimulator(sim_config(funding_push_ms=500)),
        lambda a: group_spec(
            "swap",
            a,
            channels=["trades", "books", "bbo-tbt", "funding-rate", "liquidation-orders"],
        ),
    )
    await h.wait_for(lambda: len(h.collected.liquidations) >= 3)
    await h.settle([SWAP])
    h.assert_trades_equal_truth(SWAP)  # sizes are contracts × ctVal
    h.assert_books_match(SWAP)
    inst = h.collected.trades[SWAP][0].instrument
    assert (inst.symbol, inst.lot) == ("BTC/USDT:USDT", Decimal("0.0001"))
    funding = [r for r in h.collected.records if isinstance(r, FundingRate)]
    truth = h.sim.funding(SWAP)
    assert funding
    for record, row in zip(funding, truth[-len(funding) :], strict=True):
        assert str(record.rate) == row["fundingRate"]
        predicted = row["nextFundingRate"]
        assert record.predicted_rate == (Decimal(predicted) if predicted else None)  # "" is NULL
        assert dict(record.extra)["funding_interval_ns"] == str(8 * 3600 * 10**9)
    # The first push replays liquidations from before the subscription: skipped.
    truth_liq = h.sim.liquidations(SWAP)
    got = [(str(r.price), r.size, r.exchange_time_ns) for r in h.collected.liquidations]
    want = [
        (d["bkPx"], Decimal(d["sz"]) * Decimal("0.01"), int(d["ts"]) * 1_000_000)
        for row in truth_liq
        for d in row["details"]
    ]
    assert len(got) >= 3
    assert got == want[-len(got) :]  # every one since the subscription, none twice
    assert all(r.quality.reasons == ("sampled",) for r in h.collected.liquidations)
    assert h.state("swap").skipped_replays == 1
