"""A worker killed while its REST work is under way — a trade backfill waiting out a 429,
a book waiting for its snapshot — must not leave that work orphaned: the restarted worker
finds the gap and the unsynced book in its memo and fetches them again."""

from __future__ import annotations

import trio

from mdp.simulator import Fault, FaultKind, Simulator
from tests.exchanges.binance._harness import sim_config, start

SYMBOLS = ["BTCUSDT", "ETHUSDT"]


async def test_kill_during_backfill_and_snapshot_loses_nothing(nursery: trio.Nursery) -> None:
    h = await start(nursery, Simulator(sim_config()))
    await h.wait_for(lambda: all(len(h.trade_ids(s)) > 100 for s in SYMBOLS))
    node = next(n for n in h.supervisor.nodes if n.name == "spot")
    state = h.state()
    # REST refuses for a while, then a trade gap and a book gap open behind it.
    h.sim.inject(Fault(FaultKind.HTTP_429, count=3))
    h.sim.inject(Fault(FaultKind.DROP, count=10, stream="btcusdt@trade"))
    h.sim.inject(Fault(FaultKind.DROP, count=2, stream="ethusdt@depth@100ms"))
    tracker = state.trackers["btcusdt@trade"]
    book = state.books["ethusdt@depth@100ms"]
    await h.wait_for(lambda: tracker.gap is not None and not book.live)
    h.supervisor.kill("collector/spot")  # the backfill and the snapshot die with it
    await h.wait_for(lambda: node.restarts >= 1)
    marks = {s: h.max_id(s) + 150 for s in SYMBOLS}
    await h.wait_for(lambda: all(h.max_id(s) >= marks[s] for s in SYMBOLS))
    await h.wait_for(lambda: book.live and tracker.gap is None)
    await h.settle(SYMBOLS)
    for symbol in SYMBOLS:
        h.assert_trades_equal_truth(symbol)
    assert node.memo["state"] is state
    assert h.collected.resyncs, "the book was rebuilt from a fresh snapshot"
    for symbol in SYMBOLS:
        h.assert_books_match(symbol)
