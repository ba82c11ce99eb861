"""Parsing into the model: exact numbers, ns times, sides, times kept apart; instruments
from exchangeInfo; trade continuity without I/O; reconnect backoff."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import orjson
import pytest

from mdp.exchanges._backoff import ReconnectBackoff
from mdp.exchanges._ws import Payload
from mdp.exchanges.binance import GroupState, StreamGroupArgs, TradeTracker
from mdp.exchanges.binance import instruments_from_exchange_info as from_info
from mdp.exchanges.binance._parse import build_bbo, build_mark, rest_trade
from mdp.model import Gap, Instrument, MarketType, Record, Side, Trade

INST = Instrument(
    exchange="binance", market=MarketType.SPOT, native_symbol="BNBBTC", symbol="BNB/BTC"
)
TRADE = (
    b'{"stream":"bnbbtc@trade","data":{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,'
    b'"p":"0.00100000","q":"100","T":1672515782134,"m":true,"M":true}}'
)


def test_trade_frame_into_the_model() -> None:
    args = StreamGroupArgs(symbols=["BNBBTC"], streams=["trade"])
    state = GroupState(args, {"BNBBTC": INST})
    out: list[Record] = []
    counts = state.process([TRADE], 7, 0.0, out)
    assert counts == {"bnbbtc@trade": 1}
    (t,) = out
    assert isinstance(t, Trade)
    assert t.trade_id == 12345
    assert str(t.price) == "0.00100000"  # exact, trailing zeros kept
    assert t.size == Decimal(100)
    assert t.side is Side.SELL  # m=true: the buyer was the maker
    assert t.exchange_time_ns == 1672515782136 * 1_000_000
    assert t.match_time_ns == 1672515782134 * 1_000_000
    assert t.receive_time_ns == 7
    assert t.instrument is INST


def test_malformed_and_control_frames_do_not_raise() -> None:
    state = GroupState(StreamGroupArgs(symbols=["BNBBTC"], streams=["trade"]), {"BNBBTC": INST})
    out: list[Record] = []
    state.process(
        [
            TRADE[:40],
            b'{"result":null,"id":3}',
            b'{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1}}',
            b'{"stream":"bnbbtc@trade","data":{"t":1}}',
        ],
        0,
        0.0,
        out,
    )
    assert out == []
    assert len(state.malformed) == 2
    assert state.acks == {3}
    assert state.shutdown_notices == 1


@pytest.mark.parametrize("agg", [False, True])
def test_one_pass_trade_groups_judge_every_frame_as_mixed_groups_do(agg: bool) -> None:
    """A group of trade streams only decodes envelope and trade in one pass; for good,
    duplicate, gapped, malformed and control frames alike it must give what the general
    path (a mixed group) gives: the same records, the same dead letters, acks, notices."""
    kind, key = ("aggTrade", "a") if agg else ("trade", "t")

    def frame(data: dict[str, Any] | bytes, stream: str = f"bnbbtc@{kind}") -> bytes:
        body = data if isinstance(data, bytes) else orjson.dumps(data)
        return b'{"stream":"' + stream.encode() + b'","data":' + body + b"}"

    def trade(tid: int, **change: Any) -> dict[str, Any]:
        return {"e": kind, "E": 5, key: tid, "p": "0.001", "q": "2", "T": 4, "m": True, **change}

    frames: list[Payload] = [
        frame(trade(1)),
        frame(trade(2, E=None)),
        frame(trade(2)),  # duplicate
        frame({k: v for k, v in trade(3).items() if k != "E"}),  # no event time
        frame({k: v for k, v in trade(4).items() if k != "p"}),  # no price: malformed
        frame(trade(4, p="abc")),  # not a number
        frame(trade(4, q=7)),  # wrong type
        frame(b'{"e":"trade",'),  # not JSON
        frame(trade(4), stream="ethbtc@trade"),  # not a stream of this group
        frame(trade(9)),  # a gap: 4..8
        frame(trade(10, extra=[1, {"x": None}])),
        b'{"result":null,"id":7}',
        b'{"code":2,"msg":"Invalid request"}',
        b'{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1}}',
        b"not json",
    ]
    results = []
    for streams in ([kind], [kind, "bookTicker"]):
        state = GroupState(StreamGroupArgs(symbols=["BNBBTC"], streams=streams), {"BNBBTC": INST})
        assert (state._decode is state._envelope) is (len(streams) > 1)  # which path
        out: list[Record] = []
        counts = state.process(frames, 7, 1.0, out)
        results.append(
            (
                out,
                counts,
                [(raw, type(exc)) for raw, exc in state.malformed],
                state.acks,
                state.errors,
                state.shutdown_notices,
                [(t.stream, t.gap) for t in state.backfills],
            )
        )
    assert results[0] == results[1]
    out, counts, malformed = results[0][:3]
    assert [t.trade_id for t in out if isinstance(t, Trade)] == [1, 2, 3]
    assert counts == {f"bnbbtc@{kind}": 6}
    assert len(malformed) == 6


def test_spot_book_ticker_has_no_event_time() -> None:
    data = {"u": 400900217, "s": "BNBUSDT", "b": "25.35190000", "B": "31.21000000",
            "a": "25.36520000", "A": "40.66000000"}  # fmt: skip
    bbo = build_bbo(INST, data, 99)
    assert bbo.exchange_time_ns is None  # never the receive time
    assert bbo.receive_time_ns == 99
    assert bbo.update_id == 400900217


def test_mark_price_and_funding() -> None:
    data = {"e": "markPriceUpdate", "E": 1562305380000, "s": "BTCUSDT", "p": "11794.15000000",
            "i": "11784.62659091", "P": "11784.25641265", "r": "0.00038167",
            "T": 1562306400000}  # fmt: skip
    mark, funding = build_mark(INST, data, 1)
    assert mark.mark_price == Decimal("11794.15000000")
    assert funding.rate == Decimal("0.00038167")
    assert funding.next_funding_time_ns == 1562306400000 * 1_000_000


def test_backfilled_rest_rows() -> None:
    row = {"id": 5, "price": "1.5", "qty": "2", "quoteQty": "3", "time": 10,
           "isBuyerMaker": False, "isBestMatch": True}  # fmt: skip
    t = rest_trade(INST, row, 0, agg=False)
    assert t.side is Side.BUY
    assert t.exchange_time_ns is None
    assert "backfilled" in t.quality.reasons


def test_instruments_from_exchange_info() -> None:
    def row(**extra: Any) -> dict[str, Any]:
        return {
            "symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT",
            "filters": [
                {"filterType": "PRICE_FILTER", "tickSize": "0.01000000"},
                {"filterType": "LOT_SIZE", "stepSize": "0.00001000"},
            ],
            **extra,
        }  # fmt: skip

    spot = from_info({"symbols": [row()]}, MarketType.SPOT)["BTCUSDT"]
    assert spot.symbol == "BTC/USDT"
    assert spot.tick == Decimal("0.01")
    assert spot.lot == Decimal("0.00001")
    perp = from_info(
        {"symbols": [row(contractType="PERPETUAL", marginAsset="USDT")]}, MarketType.PERPETUAL
    )["BTCUSDT"]
    assert perp.symbol == "BTC/USDT:USDT"
    dated = from_info({"symbols": [row(contractType="CURRENT_QUARTER")]}, MarketType.PERPETUAL)
    assert dated == {}


def _payload(tid: int) -> bytes:
    return orjson.dumps({"E": 1, "T": 1, "t": tid, "p": "1", "q": "1", "m": False})


def test_tracker_holds_behind_a_gap_then_delivers_in_order() -> None:
    tracker = TradeTracker(INST, "x@trade", "t")
    out: list[Record] = []
    for tid in (1, 2, 5, 4, 6, 5):
        tracker.on_payload(_payload(tid), 0, out)
    assert [t.trade_id for t in out if isinstance(t, Trade)] == [1, 2]
    assert tracker.gap == (3, 4)
    assert tracker.opened == [tracker]
    filled = [rest_trade(INST, {"id": 3, "price": "1", "qty": "1", "time": 1,
                                "isBuyerMaker": True}, 0, agg=False)]  # fmt: skip
    again = tracker.backfilled(filled, 0, out)
    assert not again
    ids = [t.trade_id for t in out if isinstance(t, Trade)]
    assert ids == [1, 2, 3, 4, 5, 6]  # 4 arrived live (reordered): no Gap for it
    assert not any(isinstance(r, Gap) for r in out)
    assert tracker.duplicates == 1
    # A gap REST cannot fill is published with its exact range.
    for tid in (7, 10):
        tracker.on_payload(_payload(tid), 0, out)
    out.clear()
    tracker.backfilled([], 0, out)
    gap = out[0]
    assert isinstance(gap, Gap)
    assert (gap.first_missing, gap.last_missing) == (8, 9)
    assert [t.trade_id for t in out if isinstance(t, Trade)] == [10]


def test_backoff_is_capped_jittered_and_resets() -> None:
    b = ReconnectBackoff(initial_s=0.1, max_s=1.0, jitter=0.2, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(8)]
    assert 0.08 <= delays[0] <= 0.12
    assert all(d <= 1.2 for d in delays)
    assert max(delays) >= 0.8
    b.healthy_for(60)
    assert b.next_delay() <= 0.12


async def test_instruments_fall_back_to_the_symbols_file() -> None:
    from pathlib import Path

    from mdp.exchanges.binance import REGISTRY, RestClient, fetch_instruments
    from mdp.instruments import InstrumentKey

    rest = RestClient("http://127.0.0.1:9", "spot", attempts=1)  # nothing listens there
    try:
        root = Path(__file__).parents[3]
        got = await fetch_instruments(
            rest, MarketType.SPOT, ["BTCUSDT"], root / "etc/mdp/symbols.toml"
        )
    finally:
        await rest.aclose()
    inst = got["BTCUSDT"]
    assert inst.symbol == "BTC/USDT"
    assert inst.tick == Decimal("0.01")
    assert REGISTRY.get(InstrumentKey("binance", MarketType.SPOT, "BTCUSDT")) is inst


def test_an_anchored_tracker_does_not_trust_a_later_first_frame() -> None:
    """With the REST anchor (the newest id before the first subscription + 1), a first
    frame past it opens a gap back to the anchor: a connection lost before its first frame
    must not skip the trades it missed. A first frame at or before it is trusted."""
    late = TradeTracker(INST, "x@trade", "t")
    late.floor_id = 10
    out: list[Record] = []
    late.on_payload(_payload(14), 0, out)
    assert out == []
    assert late.gap == (10, 13)
    assert late.opened == [late]
    on_time = TradeTracker(INST, "x@trade", "t")
    on_time.floor_id = 10
    for tid in (9, 10, 11):  # 9: made before the anchor was read, arriving after it
        on_time.on_payload(_payload(tid), 0, out)
    assert [t.trade_id for t in out if isinstance(t, Trade)] == [9, 10, 11]
    assert on_time.gap is None
