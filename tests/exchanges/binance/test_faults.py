"""One test per simulator fault: after it, the collected trades are exactly the
simulator's ground truth (no id missing, none twice, in order), and books rebuilt from
what the collector published equal the simulator's at its checkpoints."""

from __future__ import annotations

import trio
from prometheus_client import REGISTRY

from mdp.model import QualityLevel, SourceState
from mdp.simulator import Fault, FaultKind, Simulator
from tests.exchanges._counts import backfilled_after_start
from tests.exchanges.binance._harness import Harness, group_spec, sim_config, start

SYMBOLS = ["BTCUSDT", "ETHUSDT"]


async def _warm(h: Harness, trades: int = 150) -> None:
    await h.wait_for(lambda: all(len(h.trade_ids(s)) > trades for s in SYMBOLS))


async def _more(h: Harness, trades: int = 150) -> None:
    """Wait for ``trades`` more trades of every symbol than collected so far."""
    marks = {s: h.max_id(s) + trades for s in SYMBOLS}
    await h.wait_for(lambda: all(h.max_id(s) >= marks[s] for s in SYMBOLS))


async def _check(h: Harness) -> None:
    await h.settle(SYMBOLS)
    for symbol in SYMBOLS:
        h.assert_trades_equal_truth(symbol)


def _backfilled(h: Harness) -> int:
    return backfilled_after_start(h.collected.trades)


async def test_disconnect_abrupt_and_polite(nursery: trio.Nursery) -> None:
    h = await start(nursery, Simulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.DISCONNECT, abrupt=True))
    await _more(h)
    h.sim.inject(Fault(FaultKind.DISCONNECT))
    await _more(h)
    await _check(h)
    assert h.group().connections >= 3
    for symbol in SYMBOLS:
        h.assert_books_match(symbol)  # diffs lost while reconnecting were resynced


async def test_stall_is_reported_stale_and_filled(nursery: trio.Nursery) -> None:
    h = await start(
        nursery,
        Simulator(sim_config()),
        lambda a: group_spec("spot", a, stale_factor=0.25),  # depth@100ms stale after 0.5 s
    )
    await _warm(h)
    h.sim.inject(Fault(FaultKind.STALL, seconds=1.5))
    await h.wait_for(lambda: any(s.state is SourceState.STALE for s in h.collected.statuses))
    await h.wait_for(lambda: any(s.state is SourceState.LIVE for s in h.collected.statuses))
    await _more(h)
    await _check(h)
    assert _backfilled(h) > 0  # the frames the stall swallowed came from REST


async def test_dropped_trade_frames_are_backfilled(nursery: trio.Nursery) -> None:
    h = await start(nursery, Simulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.DROP, count=25, stream="btcusdt@trade"))
    await _more(h)
    await _check(h)
    backfilled = [t for t in h.collected.trades["BTCUSDT"] if t.quality.reasons]
    assert _backfilled(h) == 25  # and those of the start, before the first live trade
    assert all(t.quality.level is QualityLevel.PERFECT for t in backfilled)
    assert not h.collected.gaps  # everything could be filled: no Gap published


async def test_duplicates_are_dropped(nursery: trio.Nursery) -> None:
    h = await start(nursery, Simulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.DUPLICATE, count=40))
    await _more(h)
    await _check(h)
    assert sum(t.duplicates for t in h.state().trackers.values()) > 0
    for symbol in SYMBOLS:
        h.assert_books_match(symbol)  # duplicated depth diffs are ignored by update id


async def test_reordered_frames_come_out_in_order(nursery: trio.Nursery) -> None:
    h = await start(nursery, Simulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.REORDER, count=10, stream="ethusdt@trade"))
    await _more(h)
    await _check(h)  # asserts ids delivered in order, none twice


async def test_server_shutdown_rolls_over_without_a_gap(nursery: trio.Nursery) -> None:
    h = await start(nursery, Simulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.SERVER_SHUTDOWN, seconds=0.5))
    await h.wait_for(lambda: h.group().connections >= 2)
    await _more(h)
    await _check(h)
    # The new connection was up before the old one closed: nothing had to be backfilled.
    assert _backfilled(h) == 0
    assert not h.collected.gaps
    assert h.sim.stats()["close_reasons"].get("server shutdown", 0) == 0  # we left first


async def test_connection_limit_proactive_rollover(nursery: trio.Nursery) -> None:
    # The exchange's 24 h limit shortened to 1.5 s; the collector rolls over at 0.6 s.
    h = await start(
        nursery,
        Simulator(sim_config(max_connection_s=1.5)),
        lambda a: group_spec("spot", a, max_connection_s=0.6),
    )
    await _warm(h)
    await h.wait_for(lambda: h.group().connections >= 4)
    await _check(h)
    assert _backfilled(h) == 0
    assert not h.collected.gaps
    assert h.sim.stats()["close_reasons"].get("connection limit reached", 0) == 0


async def test_connection_limit_enforced_by_the_server(nursery: trio.Nursery) -> None:
    h = await start(nursery, Simulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.CONNECTION_LIMIT, seconds=0.7))
    await h.wait_for(lambda: h.group().connections >= 3)
    await _more(h)
    await _check(h)
    assert h.sim.stats()["close_reasons"].get("connection limit reached", 0) >= 1


async def test_http_429_and_418_are_honoured(nursery: trio.Nursery) -> None:
    h = await start(nursery, Simulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.HTTP_429, count=2))
    h.sim.inject(Fault(FaultKind.DROP, count=10, stream="btcusdt@trade"))
    await _more(h)
    h.sim.inject(Fault(FaultKind.HTTP_418, count=1))
    h.sim.inject(Fault(FaultKind.DROP, count=10, stream="ethusdt@trade"))
    await _more(h)
    await _check(h)
    assert h.group().rest.rate_limited >= 3
    assert _backfilled(h) == 20


async def test_book_gap_publishes_gap_and_resync_then_matches(nursery: trio.Nursery) -> None:
    h = await start(nursery, Simulator(sim_config()))
    await h.wait_for(lambda: h.collected.snapshots >= 2)
    await _warm(h)
    h.sim.inject(Fault(FaultKind.DROP, count=2, stream="btcusdt@depth@100ms"))
    await h.wait_for(lambda: any(r.stream == "btcusdt@depth@100ms" for r in h.collected.resyncs))
    await _more(h)
    await _check(h)
    gaps = [g for g in h.collected.gaps if g.stream == "btcusdt@depth@100ms"]
    assert gaps
    assert gaps[0].first_missing <= gaps[0].last_missing
    for symbol in SYMBOLS:
        h.assert_books_match(symbol, at_least=5)


async def test_malformed_frames_are_dead_lettered_connection_stays_up(
    nursery: trio.Nursery,
) -> None:
    labels = {"exchange": "binance", "market": "spot"}
    before = REGISTRY.get_sample_value("mdp_collector_malformed_frames_total", labels) or 0
    h = await start(nursery, Simulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.MALFORMED, count=3, stream="btcusdt@trade"))
    await h.wait_for(lambda: h.dead_letters.count >= 3)
    await _more(h)
    await _check(h)
    assert h.dead_letters.count == 3
    after = REGISTRY.get_sample_value("mdp_collector_malformed_frames_total", labels)
    assert after == before + 3  # counted
    assert h.group().connections == 1  # never reconnected
    assert _backfilled(h) == 3  # the three cut trades came from REST


async def test_rapid_rollovers_lose_nothing(nursery: trio.Nursery) -> None:
    # A rollover every 50 ms: closing the old connection (a cancellation) often lands
    # while it is publishing; nothing it counted as delivered may be lost.
    h = await start(
        nursery,
        Simulator(sim_config()),
        lambda a: group_spec("spot", a, max_connection_s=0.05),
    )
    await h.wait_for(lambda: h.group().connections >= 20)
    await _check(h)
    assert not h.collected.gaps


async def test_pings_are_answered_and_a_dead_connection_is_replaced(
    nursery: trio.Nursery,
) -> None:
    h = await start(
        nursery,
        Simulator(sim_config(ping_interval_s=0.1, pong_timeout_s=0.35)),
        lambda a: group_spec("spot", a, receive_timeout_s=0.5),
    )
    await _warm(h)
    await trio.sleep(1.0)  # ten pings, each answered in time
    assert h.group().connections == 1
    assert "no pong within the timeout" not in h.sim.stats()["close_reasons"]
    h.sim.inject(Fault(FaultKind.STALL, seconds=2.0))  # no frames, no pings
    await h.wait_for(lambda: h.group().connections >= 2)  # given up after 0.5 s of silence
    await _more(h)
    await _check(h)


async def test_weight_budget_is_shared_and_respected(nursery: trio.Nursery) -> None:
    # 300 weight per 1 s window: one historicalTrades page is 25, a depth snapshot 50.
    cfg = sim_config()
    cfg.rest.spot_weight = 300
    h = await start(
        nursery,
        Simulator(cfg),
        lambda a: group_spec("spot", a, weight_limit=300, weight_window_s=1.0),
    )
    await _warm(h)
    for _ in range(4):  # backfills and book resyncs competing for the same budget
        for stream in ("btcusdt@trade", "ethusdt@trade"):
            h.sim.inject(Fault(FaultKind.DROP, count=3, stream=stream))
        for stream in ("btcusdt@depth@100ms", "ethusdt@depth@100ms"):
            h.sim.inject(Fault(FaultKind.DROP, count=1, stream=stream))
        await _more(h, 40)
    await _check(h)
    rest = h.group().rest
    assert rest.budget_waits >= 1  # it waited for the next window instead of overrunning
    assert rest.used <= 300
    for symbol in SYMBOLS:
        h.assert_books_match(symbol)


async def test_unfillable_trade_gap_is_published_with_its_range(nursery: trio.Nursery) -> None:
    # The exchange keeps only the last 200 trades per symbol: a 2 s stall loses more than
    # REST can give back, and exactly the missing ids must be reported.
    h = await start(nursery, Simulator(sim_config(history=200)))
    await _warm(h, 50)
    h.sim.inject(Fault(FaultKind.STALL, seconds=2.0))
    await h.wait_for(lambda: any(g.stream.endswith("@trade") for g in h.collected.gaps))
    await _more(h, 50)
    await h.settle(SYMBOLS)
    for symbol in SYMBOLS:
        ids = h.trade_ids(symbol)
        assert ids == sorted(set(ids))
        stream = f"{symbol.lower()}@trade"
        missing = [
            i
            for g in h.collected.gaps
            if g.stream == stream
            for i in range(g.first_missing, g.last_missing + 1)
        ]
        assert missing, "the stall lost more than the history holds"
        assert not set(missing) & set(ids)
        assert sorted([*ids, *missing]) == list(range(ids[0], ids[-1] + 1))
        truth = {t.id: t for t in h.sim.trades(symbol)}
        for t in h.collected.trades[symbol]:
            if t.trade_id in truth:
                assert str(t.price) == truth[t.trade_id].price


async def test_spot_agg_trades_backfilled_from_agg_trades(nursery: trio.Nursery) -> None:
    h = await start(
        nursery,
        Simulator(sim_config()),
        lambda a: group_spec("spot", a, streams=["aggTrade"]),
    )
    await _warm(h, 100)
    h.sim.inject(Fault(FaultKind.DROP, count=15, stream="btcusdt@aggTrade"))
    await _more(h, 100)
    await h.settle(SYMBOLS, agg=True)
    for symbol in SYMBOLS:
        h.assert_trades_equal_truth(symbol, agg=True)
    assert _backfilled(h) == 15


async def test_killed_worker_restarts_from_its_memo_and_backfills(nursery: trio.Nursery) -> None:
    h = await start(nursery, Simulator(sim_config()))
    await _warm(h)
    node = next(n for n in h.supervisor.nodes if n.name == "spot")
    state = node.memo["state"]
    h.supervisor.kill("collector/spot")
    await h.wait_for(lambda: node.restarts >= 1 and node.memo["group"].connections >= 1)
    await trio.sleep(0.3)
    await _more(h)
    await _check(h)  # the restarted worker went on from the last id it delivered
    assert node.memo["state"] is state  # trade positions and books survived the restart
