"""One test per simulator fault, as for Binance: after it, the collected trades are
exactly the simulator's ground truth (no id missing, none twice, in order), and books
rebuilt from what the collector published equal the simulator's checkpoints."""

from __future__ import annotations

import trio
from prometheus_client import REGISTRY

from mdp.exchanges.okx import totals
from mdp.model import QualityLevel, SourceState
from mdp.simulator import Fault, FaultKind
from mdp.simulator.okx import OkxSimulator
from tests.exchanges._counts import backfilled_after_start
from tests.exchanges.okx._harness import SPOT, Harness, group_spec, sim_config, start

SYMBOLS = [SPOT, "ETH-USDT"]
BOOK = f"books:{SPOT}"


async def _warm(h: Harness, trades: int = 150) -> None:
    await h.wait_for(lambda: all(len(h.trade_ids(s)) > trades for s in SYMBOLS))


async def _more(h: Harness, trades: int = 150) -> None:
    """Wait for ``trades`` more trade ids of every symbol than collected so far."""
    marks = {s: h.max_id(s) + trades for s in SYMBOLS}
    await h.wait_for(lambda: all(h.max_id(s) >= marks[s] for s in SYMBOLS))


async def _check(h: Harness, books: bool = True) -> None:
    await h.settle(SYMBOLS)
    for symbol in SYMBOLS:
        h.assert_trades_equal_truth(symbol)
        if books:
            h.assert_books_match(symbol)


def _backfilled(h: Harness) -> int:
    return backfilled_after_start(h.collected.trades)


async def test_disconnect_abrupt_and_polite(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.DISCONNECT, abrupt=True))
    await _more(h)
    h.sim.inject(Fault(FaultKind.DISCONNECT))
    await _more(h)
    await _check(h)
    assert h.group().connections >= 3
    assert _backfilled(h) > 0  # what went by while reconnecting came from REST
    assert h.collected.resyncs  # and the books were rebuilt from a fresh snapshot


async def test_stall_is_reported_stale_and_filled(nursery: trio.Nursery) -> None:
    h = await start(
        nursery,
        OkxSimulator(sim_config()),
        lambda a: group_spec("spot", a, stale_factor=0.1),  # books stale after 0.5 s
    )
    await _warm(h)
    h.sim.inject(Fault(FaultKind.STALL, seconds=1.5))
    await h.wait_for(lambda: any(s.state is SourceState.STALE for s in h.collected.statuses))
    await h.wait_for(lambda: any(s.state is SourceState.LIVE for s in h.collected.statuses))
    await _more(h)
    await _check(h)
    assert _backfilled(h) > 0


async def test_dropped_trade_frames_are_backfilled(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.DROP, count=25, stream=f"trades:{SPOT}"))
    await _more(h)
    await _check(h)
    backfilled = [t for t in h.collected.trades[SPOT] if t.quality.reasons]
    assert _backfilled(h) == 25  # and those of the start, before the first live trade
    assert all(t.quality.level is QualityLevel.PERFECT for t in backfilled)
    assert not h.collected.gaps


async def test_duplicates_are_dropped(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.DUPLICATE, count=40))
    await _more(h)
    await _check(h)
    assert sum(t.duplicates for t in h.state().trackers.values()) > 0
    assert not h.collected.gaps  # a resent books update is recognised by its seqId pair


async def test_reordered_frames_come_out_in_order(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.REORDER, count=10, stream="trades:ETH-USDT"))
    await _more(h)
    await _check(h)


async def test_64008_notice_makes_before_it_breaks(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.SERVER_SHUTDOWN, seconds=0.5))  # 64008, then a seqId reset
    await h.wait_for(lambda: h.group().connections >= 2)
    await _more(h)
    await _check(h)
    assert _backfilled(h) == 0  # the new connection was up before the old one closed
    assert not h.collected.gaps
    assert all(b.resets == 1 for b in h.state().books.values())
    assert h.sim.stats()["close_reasons"].get("service upgrade", 0) == 0  # we left first


async def test_connection_age_rollover(nursery: trio.Nursery) -> None:
    h = await start(
        nursery,
        OkxSimulator(sim_config()),
        lambda a: group_spec("spot", a, max_connection_s=0.6),
    )
    await _warm(h)
    await h.wait_for(lambda: h.group().connections >= 4)
    await _check(h)
    assert _backfilled(h) == 0
    assert not h.collected.gaps


async def test_connection_limit_enforced_by_the_server(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.CONNECTION_LIMIT, seconds=0.7))
    await h.wait_for(lambda: h.group().connections >= 3)
    await _more(h)
    await _check(h)
    assert h.sim.stats()["close_reasons"].get("connection limit reached", 0) >= 1
    assert h.sim.stats()["counters"].get("connect_rejected", 0) == 0  # within 3/s


async def test_http_429_is_honoured(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.HTTP_429, count=2))
    h.sim.inject(Fault(FaultKind.DROP, count=10, stream=f"trades:{SPOT}"))
    await _more(h)
    h.sim.inject(Fault(FaultKind.HTTP_418, count=1))  # OKX has no ban status: a 429 too
    h.sim.inject(Fault(FaultKind.DROP, count=10, stream="trades:ETH-USDT"))
    await _more(h)
    await _check(h)
    assert h.group().rest.rate_limited >= 3
    assert _backfilled(h) == 20


async def test_book_gap_publishes_gap_and_resync_then_matches(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.DROP, count=2, stream=BOOK))
    await h.wait_for(lambda: any(r.stream == BOOK for r in h.collected.resyncs))
    await _more(h)
    await _check(h)
    gaps = [g for g in h.collected.gaps if g.stream == BOOK]
    assert gaps
    assert gaps[0].reason == "seqId not contiguous"
    assert gaps[0].first_missing <= gaps[0].last_missing
    h.assert_books_match(SPOT, at_least=5)


async def test_malformed_frames_are_dead_lettered_connection_stays_up(
    nursery: trio.Nursery,
) -> None:
    labels = {"exchange": "okx", "market": "spot"}
    before = REGISTRY.get_sample_value("mdp_collector_malformed_frames_total", labels) or 0
    h = await start(nursery, OkxSimulator(sim_config()))
    await _warm(h)
    h.sim.inject(Fault(FaultKind.MALFORMED, count=3, stream=f"trades:{SPOT}"))
    await h.wait_for(lambda: h.dead_letters.count >= 3)
    await _more(h)
    await _check(h)
    assert h.dead_letters.count == 3
    after = REGISTRY.get_sample_value("mdp_collector_malformed_frames_total", labels)
    assert after == before + 3
    assert h.group().connections == 1
    assert _backfilled(h) == 3


async def test_rapid_rollovers_lose_nothing(nursery: trio.Nursery) -> None:
    h = await start(
        nursery,
        OkxSimulator(sim_config(max_connects_per_s=100)),
        lambda a: group_spec("spot", a, max_connection_s=0.05),
    )
    await h.wait_for(lambda: h.group().connections >= 12)
    await _check(h, books=False)
    assert not h.collected.gaps


async def test_keepalive_pings_a_quiet_connection_and_replaces_a_dead_one(
    nursery: trio.Nursery,
) -> None:
    h = await start(
        nursery,
        OkxSimulator(sim_config(idle_timeout_s=0.8)),
        lambda a: group_spec("spot", a, ping_after_s=0.2, pong_timeout_s=0.3),
    )
    await _warm(h)
    pings = totals["pings"]
    h.sim.pause()  # nothing to push: only the collector's pings keep the connection
    await trio.sleep(1.5)
    assert totals["pings"] >= pings + 3
    assert h.group().connections == 1
    assert h.sim.stats()["close_reasons"] == {}
    h.sim.resume()
    h.sim.inject(Fault(FaultKind.STALL, seconds=2.0))  # no pushes and no pongs
    await h.wait_for(lambda: h.group().connections >= 2)  # given up after ping + 0.3 s
    await _more(h)
    await _check(h)


async def test_unfillable_trade_gap_is_published_with_its_range(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config(history=100)))
    await _warm(h, 50)
    h.sim.inject(Fault(FaultKind.STALL, seconds=2.0))
    await h.wait_for(lambda: any(g.stream.startswith("trades:") for g in h.collected.gaps))
    await _more(h, 50)
    await h.settle(SYMBOLS)
    for symbol in SYMBOLS:
        got = h.collected.trades[symbol]
        ids = [t.trade_id for t in got]
        assert ids == sorted(set(ids))
        missing = {
            i
            for g in h.collected.gaps
            if g.stream == f"trades:{symbol}"
            for i in range(g.first_missing, g.last_missing + 1)
        }
        assert missing, "the stall lost more than the history holds"
        # A gap starts right after what was delivered (or after another gap) ...
        ends = set(ids) | {g.last_missing for g in h.collected.gaps}
        for g in h.collected.gaps:
            if g.stream == f"trades:{symbol}":
                assert g.first_missing - 1 in ends
        # ... and every message the exchange still holds was delivered, or all its raw
        # ids (tradeId − count + 1 … tradeId) are reported missing.
        delivered = set(ids)
        for t in h.sim.trades(symbol):
            if t.trade_id > ids[0] and t.trade_id not in delivered:
                assert set(range(t.trade_id - t.count + 1, t.trade_id + 1)) <= missing


async def test_killed_worker_restarts_from_its_memo_and_backfills(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config()))
    await _warm(h)
    node = next(n for n in h.supervisor.nodes if n.name == "spot")
    state = node.memo["state"]
    h.supervisor.kill("collector/spot")
    await h.wait_for(lambda: node.restarts >= 1 and node.memo["group"].connections >= 1)
    await trio.sleep(0.3)
    await _more(h)
    await _check(h)
    assert node.memo["state"] is state
