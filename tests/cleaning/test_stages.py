"""Table-driven tests per stage with exchange-shaped inputs: every reason, every outcome."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from mdp.cleaning import (
    AnomalyStage,
    CleaningConfig,
    PrecisionStage,
    ReceiveTimeStage,
    RulesBook,
    StructureStage,
    SymbolStage,
    ValidityStage,
)
from mdp.model import (
    PERFECT,
    BestBidOffer,
    BookDelta,
    Candle,
    FundingRate,
    Instrument,
    Liquidation,
    MarketType,
    MarkPrice,
    Quality,
    QualityLevel,
    Reason,
    Side,
)
from tests.cleaning.conftest import BTC, ETH_SWAP, MS, NOW, REGISTRY, D, snapshot, trade

RULES = RulesBook()
REPAIR = RulesBook(CleaningConfig(defaults={"off_tick": "repair", "off_lot": "repair"}))


def run(stage: Any, records: list[Any]) -> tuple[list[Any], list[Any]]:
    out, rejected = stage.process(records)
    assert stage.stats.records_in == len(records)
    assert stage.stats.records_out == len(out)
    assert stage.stats.dead_lettered == len(rejected)
    return out, rejected


# --- 1 structure ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "reason", "detail"),
    [
        (trade(price="68000.10"), Reason.WRONG_TYPE, "Trade.price is str"),
        (trade(price=68000.1), Reason.WRONG_TYPE, "Trade.price is float"),
        (trade(trade_id="5"), Reason.WRONG_TYPE, "Trade.trade_id is str"),
        (trade(trade_id=True), Reason.WRONG_TYPE, "Trade.trade_id is bool"),
        (trade(side="buy"), Reason.WRONG_TYPE, "Trade.side is str"),
        (trade(size=None), Reason.MISSING_FIELD, "Trade.size is missing"),
        (trade(receive_time_ns=None), Reason.MISSING_FIELD, "receive_time_ns is missing"),
        (trade(exchange_time_ns=1.5e18), Reason.WRONG_TYPE, "exchange_time_ns is float"),
        (trade(extra=(("a", 1),)), Reason.WRONG_TYPE, "Trade.extra"),
        (snapshot(bids=(("1", D("1")),)), Reason.WRONG_TYPE, "BookSnapshot.bids"),
        ({"e": "trade", "p": "1"}, Reason.WRONG_TYPE, "not a market-data record: dict"),
    ],
)
def test_structure_rejects(record: Any, reason: Reason, detail: str) -> None:
    out, rejected = run(StructureStage(), [trade(1), record, trade(2)])
    assert out == [trade(1), trade(2)]  # the good records next to it are untouched
    assert [(r.stage, r.reason) for r in rejected] == [("structure", reason)]
    assert detail in rejected[0].detail
    assert rejected[0].record is record


def test_structure_passes_every_well_formed_kind() -> None:
    from tests.golden.records import SINGLE

    records = list(SINGLE.values())
    out, rejected = run(StructureStage(), records)
    assert out == records
    assert rejected == []


# --- 2 validity ----------------------------------------------------------------------

_BAD_VALUES = [
    (trade(price=D("0")), Reason.NON_POSITIVE_PRICE),
    (trade(price=D("-1")), Reason.NON_POSITIVE_PRICE),
    (trade(size=D("0")), Reason.ZERO_SIZE),
    (trade(size=D("-0.1")), Reason.NEGATIVE_SIZE),
    (trade(exchange_time_ns=1_000), Reason.TIME_OUT_OF_BOUNDS),  # 1970
    (trade(match_time_ns=NOW + 2 * 86_400_000 * MS), Reason.TIME_OUT_OF_BOUNDS),
    (snapshot(asks=((D("-1"), D("1")),)), Reason.NON_POSITIVE_PRICE),
    (
        BookDelta(
            instrument=BTC,
            receive_time_ns=NOW,
            first_update_id=1,
            final_update_id=2,
            bids=((D("1"), D("-2")),),
        ),
        Reason.NEGATIVE_SIZE,
    ),
    (
        BestBidOffer(
            instrument=BTC,
            receive_time_ns=NOW,
            bid_price=D("0"),
            bid_size=D("1"),
            ask_price=D("1"),
            ask_size=D("1"),
        ),
        Reason.NON_POSITIVE_PRICE,
    ),
    (
        MarkPrice(instrument=ETH_SWAP, receive_time_ns=NOW, mark_price=D("0")),
        Reason.NON_POSITIVE_PRICE,
    ),
    (
        Liquidation(
            instrument=ETH_SWAP, receive_time_ns=NOW, side=Side.SELL, price=D("3000"), size=D("0")
        ),
        Reason.ZERO_SIZE,
    ),
    (
        Candle(
            instrument=BTC,
            receive_time_ns=NOW,
            interval_ns=60,
            open_time_ns=NOW,
            open=D("2"),
            high=D("1"),
            low=D("1"),
            close=D("1"),
            volume=D("1"),
        ),
        Reason.NON_POSITIVE_PRICE,
    ),
]


@pytest.mark.parametrize(("record", "reason"), _BAD_VALUES)
def test_validity_rejects(record: Any, reason: Reason) -> None:
    out, rejected = run(ValidityStage(RULES), [trade(1), record, trade(2)])
    assert out == [trade(1), trade(2)]
    assert [(r.stage, r.reason) for r in rejected] == [("validity", reason)]


def test_validity_accepts_negative_funding_and_zero_sized_delta_levels() -> None:
    records = [
        FundingRate(instrument=ETH_SWAP, receive_time_ns=NOW, rate=D("-0.0001")),
        BookDelta(
            instrument=BTC,
            receive_time_ns=NOW,
            first_update_id=1,
            final_update_id=2,
            bids=((D("68000.10"), D("0")),),
        ),
    ]
    assert run(ValidityStage(RULES), records) == (records, [])


def test_validity_repairs_a_snapshot_by_dropping_empty_levels() -> None:
    bad = snapshot(bids=((D("68000.10"), D("1.5")), (D("68000.00"), D("0"))))
    stage = ValidityStage(RULES)
    (out,), rejected = run(stage, [bad])
    assert rejected == []
    assert out.bids == ((D("68000.10"), D("1.5")),)
    assert out.quality == Quality(QualityLevel.REPAIRED, ("zero_size",))
    assert stage.stats.flagged["zero_size"] == 1


def test_time_bounds_follow_per_symbol_rules() -> None:
    rules = RulesBook(CleaningConfig(symbols={"binance:BTCUSDT": {"max_ahead_ms": 1}}))
    late = trade(1, exchange_time_ns=NOW + 1 * MS + 2 * MS)  # 2 ms ahead of receive
    _, rejected = run(ValidityStage(rules), [late])
    assert [r.reason for r in rejected] == [Reason.TIME_OUT_OF_BOUNDS]
    assert run(ValidityStage(RULES), [late])[1] == []


# --- 3 symbols -----------------------------------------------------------------------


def test_symbols_normalize_to_the_registry_instrument() -> None:
    raw = Instrument(
        exchange="okx", market=MarketType.PERPETUAL, native_symbol="ETH-USDT-SWAP", symbol=""
    )
    raw_spot = Instrument(
        exchange="binance", market=MarketType.SPOT, native_symbol="BTCUSDT", symbol=""
    )
    out, rejected = run(
        SymbolStage(REGISTRY), [trade(1, instrument=raw), trade(2, instrument=raw_spot)]
    )
    assert rejected == []
    assert [r.instrument.symbol for r in out] == ["ETH/USDT:USDT", "BTC/USDT"]
    assert out[0].instrument is ETH_SWAP
    assert out[1].quality is PERFECT  # normalization is not a defect


def test_unknown_symbol_is_unrepairable() -> None:
    unknown = Instrument(
        exchange="binance", market=MarketType.SPOT, native_symbol="NOPEUSDT", symbol=""
    )
    out, rejected = run(SymbolStage(REGISTRY), [trade(1), trade(2, instrument=unknown)])
    assert out == [trade(1)]
    assert rejected[0].reason is Reason.UNKNOWN_SYMBOL
    assert "NOPEUSDT" in rejected[0].detail


# --- 4 precision ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (trade(price=D("68000.105")), Reason.OFF_TICK),
        (trade(size=D("0.000015")), Reason.OFF_LOT),
        (
            BestBidOffer(
                instrument=BTC,
                receive_time_ns=NOW,
                bid_price=D("1.001"),
                bid_size=D("1"),
                ask_price=D("2"),
                ask_size=D("1"),
            ),
            Reason.OFF_TICK,
        ),
        (snapshot(asks=((D("68000.205"), D("1")),)), Reason.OFF_TICK),
        (snapshot(asks=((D("68000.20"), D("1.000001")),)), Reason.OFF_LOT),
    ],
)
def test_precision_flags_off_increment_values(record: Any, reason: Reason) -> None:
    (out,), rejected = run(PrecisionStage(RULES), [record])
    assert rejected == []
    assert out.quality == Quality(QualityLevel.SUSPICIOUS, (reason.value,))
    assert attrs.evolve(out, quality=PERFECT) == record  # flagged, values untouched


def test_precision_repairs_by_rule_and_never_floats() -> None:
    (out,), _ = run(PrecisionStage(REPAIR), [trade(price=D("68000.105"), size=D("0.000016"))])
    assert out.price == D("68000.10")  # ties to even
    assert str(out.price) == "68000.10"
    assert out.size == D("0.00002")
    assert out.quality == Quality(QualityLevel.REPAIRED, ("off_tick", "off_lot"))


def test_precision_rejects_a_size_that_rounds_to_nothing() -> None:
    out, rejected = run(PrecisionStage(REPAIR), [trade(size=D("0.000001"))])
    assert out == []
    assert rejected[0].reason is Reason.OFF_LOT


def test_on_tick_values_pass_untouched_even_with_huge_digit_counts() -> None:
    huge = trade(price=D("123456789012345.010000000000000000"), size=D("1e-5"))
    assert run(PrecisionStage(RULES), [trade(), huge]) == ([trade(), huge], [])


# --- 5 receive time ------------------------------------------------------------------


def test_receive_time_is_filled_where_missing() -> None:
    stage = ReceiveTimeStage(RULES, clock=lambda: NOW + 5 * MS)
    (out,), _ = run(stage, [trade(1, receive_time_ns=0)])
    assert out.receive_time_ns == NOW + 5 * MS
    assert out.exchange_time_ns == trade(1).exchange_time_ns  # never copied from receive
    assert out.quality == Quality(QualityLevel.REPAIRED, ("receive_time_filled",))


@pytest.mark.parametrize(
    ("exchange_offset_ms", "reason"),
    [(+1_500, Reason.EXCHANGE_TIME_AHEAD), (-61_000, Reason.EXCHANGE_TIME_STALE)],
)
def test_exchange_time_far_from_receive_time_is_flagged(
    exchange_offset_ms: int, reason: Reason
) -> None:
    record = trade(1, exchange_time_ns=NOW + MS + exchange_offset_ms * MS)
    (out,), _ = run(ReceiveTimeStage(RULES), [record])
    assert out.quality.reasons == (reason.value,)
    assert out.quality.level is QualityLevel.SUSPICIOUS


def test_backfilled_trades_are_late_on_purpose() -> None:
    record = trade(
        1,
        exchange_time_ns=NOW - 3_600_000 * MS,
        quality=Quality(QualityLevel.PERFECT, ("backfilled",)),
    )
    (out,), _ = run(ReceiveTimeStage(RULES), [record])
    assert out is record


def test_clock_skew_is_measured_per_exchange() -> None:
    stage = ReceiveTimeStage(RULES)
    records = [
        trade(i, exchange_time_ns=NOW + i * MS - lag * MS)
        for i, lag in enumerate([5, 3, 9, 4], start=1)
    ]
    swap = [trade(9, instrument=ETH_SWAP, exchange_time_ns=NOW + 9 * MS + 200 * MS)]
    run(stage, records + swap)
    assert stage.clock_skew_ns() == {"binance": 3 * MS, "okx": -200 * MS}


# --- 6 anomalies ---------------------------------------------------------------------


def _series(n: int = 40, **changes: Any) -> list[Any]:
    return [trade(i, **changes) for i in range(1, n + 1)]


def test_anomalies_let_a_clean_series_through_unchanged() -> None:
    records = _series()
    out, _ = run(AnomalyStage(RULES), records)
    assert all(a is b for a, b in zip(out, records, strict=True))


@pytest.mark.parametrize(
    ("defect", "reason"),
    [
        (lambda s: s.insert(30, s[20]), Reason.DUPLICATE_ID),
        (lambda s: s.__setitem__(30, attrs.evolve(s[30], price=D("72000.00"))), Reason.PRICE_JUMP),
        (lambda s: s.__setitem__(30, attrs.evolve(s[30], price=D("64000.00"))), Reason.PRICE_JUMP),
        (lambda s: s.__setitem__(30, attrs.evolve(s[30], size=D("0.11"))), Reason.SIZE_SPIKE),
        (lambda s: s.pop(30), Reason.ID_GAP),
        (lambda s: s.insert(31, s.pop(30)), Reason.OUT_OF_ORDER_ID),
    ],
    ids=["duplicate", "jump-up", "jump-down", "size-spike", "gap", "out-of-order"],
)
def test_anomalies_flag_exactly_the_defect(defect: Any, reason: Reason) -> None:
    records = _series()
    defect(records)
    out, rejected = run(AnomalyStage(RULES), records)
    assert rejected == []
    assert len(out) == len(records)  # flags, never drops
    flagged = [(i, r.quality.reasons) for i, r in enumerate(out) if r.quality is not PERFECT]
    if reason is Reason.OUT_OF_ORDER_ID:  # a swap: 32 arrives early (a gap), 31 late
        assert flagged == [(30, ("id_gap",)), (31, ("out_of_order_id",))]
    else:
        assert flagged == [(30, (reason.value,))]
    assert {out[i].quality.level for i, _ in flagged} == {QualityLevel.SUSPICIOUS}


def test_a_real_move_becomes_the_new_reference() -> None:
    records = _series(10) + [trade(i, price=D("75000.00")) for i in range(11, 20)]
    out, _ = run(AnomalyStage(RULES), records)
    assert [r.quality.reasons for r in out[10:]] == [("price_jump",)] * 3 + [()] * 6


def test_backfilled_trades_fill_the_hole_without_flags() -> None:
    live = [trade(i) for i in (1, 2, 3, 7, 8)]
    backfill = [trade(i, quality=Quality(QualityLevel.PERFECT, ("backfilled",))) for i in (4, 5, 6)]
    out, _ = run(AnomalyStage(RULES), live + backfill + [trade(6)])
    assert [r.quality.reasons for r in out] == [
        (),
        (),
        (),
        ("id_gap",),
        (),
        ("backfilled",),
        ("backfilled",),
        ("backfilled",),
        ("duplicate_id",),
    ]


def test_book_delta_chains_spot_and_futures_style() -> None:
    def delta(first: int, final: int, prev: int | None = None) -> BookDelta:
        return BookDelta(
            instrument=ETH_SWAP,
            receive_time_ns=NOW,
            first_update_id=first,
            final_update_id=final,
            prev_final_update_id=prev,
        )

    spot = [delta(1, 3), delta(4, 9), delta(12, 15), delta(10, 11), delta(4, 9)]
    out, _ = run(AnomalyStage(RULES), spot)
    assert [r.quality.reasons for r in out] == [
        (),
        (),
        ("id_gap",),
        ("out_of_order_id",),
        ("duplicate_id",),
    ]
    futures = [delta(100, 120, 90), delta(121, 130, 120), delta(150, 160, 140)]
    out, _ = run(AnomalyStage(RULES), futures)
    assert [r.quality.reasons for r in out] == [(), (), ("id_gap",)]


def test_mark_price_jumps_are_flagged() -> None:
    marks = [
        MarkPrice(instrument=ETH_SWAP, receive_time_ns=NOW, mark_price=D(p))
        for p in ("3000", "3001", "3400", "3002")
    ]
    out, _ = run(AnomalyStage(RULES), marks)
    assert [r.quality.reasons for r in out] == [(), (), ("price_jump",), ()]


def test_stage_counters_count_flags_by_reason() -> None:
    stage = AnomalyStage(RULES)
    records = _series()
    records.insert(30, records[20])
    records.insert(10, records[5])
    run(stage, records)
    assert stage.stats.flagged == {"duplicate_id": 2}
    assert stage.stats.as_dict()["flagged"] == {"duplicate_id": 2}


def test_overrides_are_per_symbol() -> None:
    rules = RulesBook(
        CleaningConfig(
            defaults={"price_jump": "0.05"},
            symbols={
                "binance:BTCUSDT": {"price_jump": "0.5"},
                "binance:spot:BTCUSDT": {"size_spike": "1000"},
            },
        )
    )
    assert rules.for_instrument(BTC).price_jump == Decimal("0.5")  # inherited from the wider
    assert rules.for_instrument(BTC).size_spike == Decimal("1000")
    assert rules.for_instrument(ETH_SWAP).price_jump == Decimal("0.05")
