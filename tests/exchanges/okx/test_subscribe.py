"""A subscription OKX refuses becomes a clear ``degraded`` SourceStatus, the rest of the
group keeps collecting, and the worker does not restart (no crash loop); trade
continuity rules of ``tradeId``/``count`` in isolation."""

from __future__ import annotations

from pathlib import Path

import trio

from mdp.exchanges.okx import TradeTracker
from mdp.exchanges.okx._parse import Sizes, trade_rows
from mdp.model import Gap, Instrument, MarketType, Record, SourceState, Trade
from mdp.simulator import Fault, FaultKind
from mdp.simulator.okx import OkxSimulator
from tests.exchanges.okx._harness import SPOT, group_spec, sim_config, start

UNKNOWN = "XRP-USDT"  # in the symbols file below, not simulated: OKX answers 60018

SYMBOLS_FILE = """
[[instrument]]
exchange = "okx"
market = "spot"
native_symbol = "XRP-USDT"
base = "XRP"
quote = "USDT"
tick = "0.0001"
lot = "0.000001"
"""


async def test_refused_subscription_is_a_degraded_status_not_a_crash_loop(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    symbols = tmp_path / "symbols.toml"
    symbols.write_text(SYMBOLS_FILE)
    h = await start(
        nursery,
        OkxSimulator(sim_config()),
        lambda a: group_spec("spot", a, symbols=[SPOT, UNKNOWN], symbols_file=str(symbols)),
    )
    refused = {f"{c}:{UNKNOWN}" for c in ("trades", "books", "bbo-tbt")}
    await h.wait_for(lambda: {s.stream for s in h.collected.statuses} >= refused)
    statuses = [s for s in h.collected.statuses if s.stream in refused]
    assert len(statuses) == 3  # once each
    assert all(s.state is SourceState.DEGRADED for s in statuses)
    assert all("60018" in s.detail and "refused" in s.detail for s in statuses)
    await h.wait_for(lambda: len(h.trade_ids(SPOT)) > 100)  # the rest collects
    h.sim.inject(Fault(FaultKind.DISCONNECT))
    await h.wait_for(lambda: h.group().connections >= 2)
    await trio.sleep(0.2)
    node = next(n for n in h.supervisor.nodes if n.name == "spot")
    assert node.restarts == 0
    subs = h.sim.stats()["connections"][0]["subscriptions"]
    assert not any(UNKNOWN in s for s in subs)  # not asked for again after reconnecting
    assert len([s for s in h.collected.statuses if s.stream in refused]) == 3


INST = Instrument(exchange="okx", market=MarketType.SPOT, native_symbol=SPOT, symbol="BTC/USDT")


def _push(*messages: tuple[int, int]) -> bytes:
    rows = ",".join(
        f'{{"tradeId":"{tid}","px":"1.0","sz":"2","side":"buy","ts":"5","count":"{n}"}}'
        for tid, n in messages
    )
    return f"[{rows}]".encode()


def test_trade_id_is_the_last_of_count_fills() -> None:
    gaps: list[TradeTracker] = []
    tracker = TradeTracker(INST, Sizes(None), "trades:BTC-USDT", gaps)
    out: list[Record] = []
    # tradeId 123, count 3 covers 121–123; the next message must start at 124.
    tracker.on_payload(_push((123, 3), (125, 2), (126, 1)), "", 0, out)
    assert [r.trade_id for r in out if isinstance(r, Trade)] == [123, 125, 126]
    assert not gaps
    tracker.on_payload(_push((126, 1)), "", 0, out)  # a duplicate
    assert tracker.duplicates == 1
    tracker.on_payload(_push((131, 2)), "", 0, out)  # starts at 130: 127–129 are missing
    assert tracker.gap == (127, 129)
    assert gaps == [tracker]
    tracker.on_payload(_push((132, 1)), "", 0, out)  # held behind the backfill
    done: list[Record] = []
    rows = trade_rows.decode(_push((128, 2)))  # REST has 127–128 only (same row format)
    again = tracker.backfilled(list(rows), 0, done)
    assert not again
    assert [(type(r), getattr(r, "trade_id", None)) for r in done] == [
        (Trade, 128),
        (Gap, None),
        (Trade, 131),
        (Trade, 132),
    ]
    gap = next(r for r in done if isinstance(r, Gap))
    assert (gap.first_missing, gap.last_missing) == (129, 129)


def test_a_long_backfill_drops_duplicates_of_held_trades_and_keeps_each_once() -> None:
    """While a gap waits for REST, every later message is held; a duplicate among them
    (a resent frame, the overlap of a rollover) is dropped by id, also after the backfill
    has re-held the messages behind a second gap. The held ids are a set: a scan of the
    held list per message made a long backfill quadratic, slow enough under load for the
    simulator (and OKX) to cut the group off as a slow client."""
    gaps: list[TradeTracker] = []
    tracker = TradeTracker(INST, Sizes(None), "trades:BTC-USDT", gaps)
    out: list[Record] = []
    tracker.on_payload(_push((100, 1)), "", 0, out)
    tracker.on_payload(_push((105, 1)), "", 0, out)  # 101–104 missing: held from here
    assert tracker.gap == (101, 104)
    held = [(106 + i, 1) for i in range(20_000)]
    tracker.on_payload(_push(*held), "", 0, out)
    tracker.on_payload(_push(*held[::7]), "", 0, out)  # resent while held
    tracker.on_payload(_push((30_000, 1)), "", 0, out)  # a second gap behind the first
    tracker.on_payload(_push((30_000, 1), (20_105, 1)), "", 0, out)  # resent again
    assert tracker.duplicates == len(held[::7]) + 2
    done: list[Record] = []
    again = tracker.backfilled(list(trade_rows.decode(_push((102, 2), (104, 2)))), 0, done)
    assert again  # 20 106 … 29 999 missing: the message at 30 000 is held again
    assert tracker.gap == (20_106, 29_999)
    tracker.on_payload(_push((30_000, 1)), "", 0, out)  # a duplicate of the re-held one
    assert tracker.duplicates == len(held[::7]) + 3
    ids = [r.trade_id for r in done if isinstance(r, Trade)]
    assert ids == [102, 104, 105, *(tid for tid, _ in held)]
    last: list[Record] = []
    assert not tracker.backfilled([], 0, last)
    assert [r.trade_id for r in last if isinstance(r, Trade)] == [30_000]


def test_an_anchored_tracker_does_not_trust_a_later_first_message() -> None:
    """The first raw id after the REST anchor is the tracker's to deliver: a first message
    that starts past it opens a gap back to it (a connection lost before its first
    message); one that starts at or before it is trusted."""
    gaps: list[TradeTracker] = []
    late = TradeTracker(INST, Sizes(None), "trades:BTC-USDT", gaps)
    late.floor_id = 100
    out: list[Record] = []
    late.on_payload(_push((105, 2)), "", 0, out)  # covers 104–105: 100–103 are missing
    assert out == []
    assert late.gap == (100, 103)
    assert gaps == [late]
    on_time = TradeTracker(INST, Sizes(None), "trades:BTC-USDT", [])
    on_time.floor_id = 100
    on_time.on_payload(_push((101, 2), (102, 1)), "", 0, out)  # covers 100–101, then 102
    assert [r.trade_id for r in out if isinstance(r, Trade)] == [101, 102]
    assert on_time.gap is None
