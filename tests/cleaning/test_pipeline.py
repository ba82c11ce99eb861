"""The six stages together: order, the four outcomes, the rules file, and properties."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdp import ConfigError
from mdp.cleaning import STAGE_ORDER, CleaningConfig, Pipeline, Rules, RulesBook, load_rules
from mdp.model import Instrument, MarketType, QualityLevel, Reason, Side, Trade
from tests.cleaning.conftest import BTC, ETH_SWAP, MS, NOW, REGISTRY, D, trade

REPO = Path(__file__).resolve().parents[2]


def test_stage_order_is_fixed() -> None:
    assert STAGE_ORDER == (
        "structure",
        "validity",
        "symbols",
        "precision",
        "receive_time",
        "anomalies",
    )
    assert [s.name for s in Pipeline(REGISTRY).stages] == list(STAGE_ORDER)


def test_the_four_outcomes() -> None:
    rules = RulesBook(CleaningConfig(defaults={"off_tick": "repair"}))
    pipeline = Pipeline(REGISTRY, rules)
    unknown = Instrument(
        exchange="binance", market=MarketType.SPOT, native_symbol="XYZUSDT", symbol=""
    )
    batch = [
        trade(1),  # perfect
        trade(2, price=D("68000.104")),  # repaired: off tick, rounded
        trade(
            3, size=D("0.01"), price=D("68000.10"), exchange_time_ns=NOW + 3 * MS + 5_000 * MS
        ),  # suspicious: 5 s in the future
        trade(4, instrument=unknown),  # unrepairable: unknown symbol
        trade(5, price=D("-1")),  # unrepairable: negative price
        trade(6),
    ]
    out, rejected = pipeline.process(batch)
    assert [r.trade_id for r in out] == [1, 2, 3, 6]
    assert [r.quality.level for r in out[:3]] == [
        QualityLevel.PERFECT,
        QualityLevel.REPAIRED,
        QualityLevel.SUSPICIOUS,
    ]
    assert out[0] is batch[0]
    assert out[1].price == D("68000.10")
    assert out[1].quality.reasons == ("off_tick",)
    assert out[2].quality.reasons == ("exchange_time_ahead",)
    assert [(r.stage, r.reason, r.record.trade_id) for r in rejected] == [
        ("validity", Reason.NON_POSITIVE_PRICE, 5),
        ("symbols", Reason.UNKNOWN_SYMBOL, 4),
    ]
    # 4 and 5 went to the dead letters, so the stream downstream really has a hole there.
    assert out[3].quality.reasons == ("id_gap",)


def test_shipped_rules_file_is_valid_and_the_defaults() -> None:
    book = load_rules(REPO / "etc/mdp/cleaning.toml")
    assert book.defaults == Rules()


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("[defaults]\nprice_jump = 0.05", ["[defaults]", "price_jump", "string"]),
        ('[defaults]\noff_tick = "round"', ["off_tick", "'flag', 'repair'"]),
        ("[defaults]\nsize_window = 0", ["size_window must be positive"]),
        ("[defaults]\nprice_jmp = 1", ["unknown key", "price_jmp"]),
        (
            '[symbols."binance:BTCUSDT"]\nstaleness_ms = "x"',
            ['symbols."binance:BTCUSDT"', "staleness_ms"],
        ),
        ('[symbols."BTCUSDT"]\nstaleness_ms = 5', ["exchange:SYMBOL"]),
    ],
)
def test_bad_rules_files_say_where_and_what(tmp_path: Path, text: str, needles: list[str]) -> None:
    path = tmp_path / "cleaning.toml"
    path.write_text(text)
    with pytest.raises((ConfigError, ValueError)) as info:
        load_rules(path)
    message = str(info.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message


# --- properties ------------------------------------------------------------------------


@st.composite
def valid_series(draw: st.DrawFn) -> list[Trade]:
    """Trades as a healthy exchange sends them: two instruments interleaved, consecutive
    ids, prices on tick in a small random walk, sizes on lot and similar, sane times."""
    n = draw(st.integers(1, 300))
    steps = draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n))
    sizes = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    which = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    lags = draw(st.lists(st.integers(0, 900), min_size=n, max_size=n))
    price = {True: 6_800_000, False: 300_000}
    next_id = {True: 1, False: 1}
    out = []
    for i in range(n):
        k = which[i]
        price[k] += steps[i]
        receive = NOW + i * MS
        out.append(
            Trade(
                instrument=BTC if k else ETH_SWAP,
                receive_time_ns=receive,
                exchange_time_ns=receive - lags[i] * MS,
                match_time_ns=receive - lags[i] * MS,
                trade_id=next_id[k],
                price=Decimal(price[k]).scaleb(-2),
                size=Decimal(sizes[i]).scaleb(-2) if not k else Decimal(sizes[i]).scaleb(-5),
                side=Side.BUY if steps[i] > 0 else Side.SELL,
            )
        )
        next_id[k] += 1
    return out


@settings(max_examples=60, deadline=None)
@given(valid_series())
def test_valid_input_comes_out_unchanged_and_in_order(series: list[Trade]) -> None:
    out, rejected = Pipeline(REGISTRY).process(series)
    assert rejected == []
    assert len(out) == len(series)
    assert all(a is b for a, b in zip(out, series, strict=True))


DEFECTS: dict[str, tuple[Any, str]] = {
    "off_tick": (lambda t: attrs.evolve(t, price=t.price + t.instrument.tick / 2), "off_tick"),
    "future": (
        lambda t: attrs.evolve(
            t, exchange_time_ns=t.receive_time_ns + 30_000 * MS, match_time_ns=None
        ),
        "exchange_time_ahead",
    ),
    "stale": (
        lambda t: attrs.evolve(
            t, exchange_time_ns=t.receive_time_ns - 600_000 * MS, match_time_ns=None
        ),
        "exchange_time_stale",
    ),
    "jump": (
        lambda t: attrs.evolve(t, price=(t.price * Decimal("1.2")).quantize(t.instrument.tick)),
        "price_jump",
    ),
    "negative": (lambda t: attrs.evolve(t, price=-t.price), "non_positive_price"),
    "wrong_type": (lambda t: attrs.evolve(t, size=str(t.size)), "wrong_type"),
    "unknown": (
        lambda t: attrs.evolve(t, instrument=attrs.evolve(t.instrument, native_symbol="NOPE")),
        "unknown_symbol",
    ),
}


@settings(max_examples=80, deadline=None)
@given(series=valid_series(), data=st.data())
def test_exactly_the_injected_records_are_flagged(series: list[Trade], data: st.DataObject) -> None:
    # Defects go on records with a clean record of the same instrument between any two of
    # them, so that no two defects interact (jumps in a row would confirm a move).
    candidates = data.draw(
        st.sets(st.integers(0, len(series) - 1), max_size=max(1, len(series) // 8))
    )
    chosen: list[int] = []
    last_defect: dict[str, int] = {}  # native symbol -> trade id of its last defect
    for position in sorted(candidates):
        record = series[position]
        symbol = record.instrument.native_symbol
        if record.trade_id - last_defect.get(symbol, -10) >= 2:
            chosen.append(position)
            last_defect[symbol] = record.trade_id
    batch = list(series)
    expected: dict[int, str] = {}  # position -> the reason that must show
    for position in chosen:
        names = sorted(DEFECTS)
        if series[position].trade_id == 1:
            # The first price of a stream is its reference: there is nothing to jump from.
            names.remove("jump")
        make, reason = DEFECTS[data.draw(st.sampled_from(names))]
        batch[position] = make(series[position])
        expected[position] = reason

    out, rejected = Pipeline(REGISTRY).process(batch)

    found: dict[int, set[str]] = {}
    position_of = {id(record): i for i, record in enumerate(batch)}
    for rejection in rejected:
        found[position_of[id(rejection.record)]] = {rejection.reason.value}
    dead = {(series[i].instrument.native_symbol, series[i].trade_id) for i in found}
    key_position = {(t.instrument.native_symbol, t.trade_id): i for i, t in enumerate(series)}
    for record in out:
        position = key_position[(record.instrument.native_symbol, record.trade_id)]
        if record is batch[position]:
            continue
        reasons = set(record.quality.reasons)
        if (record.instrument.native_symbol, record.trade_id - 1) in dead:
            reasons.discard("id_gap")  # the previous trade went to the dead letters
        if reasons:
            found[position] = reasons
    assert found == {position: {reason} for position, reason in expected.items()}
    # and the order of what came out is the order that went in
    assert [key_position[(r.instrument.native_symbol, r.trade_id)] for r in out] == sorted(
        set(range(len(batch)))
        - {
            i
            for i, r in found.items()
            if r & {"non_positive_price", "wrong_type", "unknown_symbol"}
        }
    )


def test_stage_worker_args_are_checked() -> None:
    import mdp.cleaning._workers  # noqa: F401  (registers the component)
    from mdp.cleaning._workers import StageWorkerArgs
    from mdp.supervision import lookup

    component = lookup("cleaning.stage")
    assert component.args is StageWorkerArgs
    with pytest.raises(ConfigError, match="stage must be one of structure, validity"):
        component.structure_args({"stage": "tidy"}, source="role.toml")
    with pytest.raises(ConfigError, match="unknown argument"):
        component.structure_args({"stage": "validity", "colour": 1}, source="role.toml")
    assert component.structure_args({"stage": "anomalies"}, source="x").batch == 500


def test_stage_worker_checks_its_files_when_the_role_is_checked(tmp_path: Path) -> None:
    import mdp.cleaning._workers  # noqa: F401  (registers the component)
    from mdp.supervision import lookup

    bad = tmp_path / "cleaning.toml"
    bad.write_text('[defaults]\noff_tick = "round"\n')
    component = lookup("cleaning.stage")
    with pytest.raises(ConfigError, match="off_tick"):
        component.structure_args({"stage": "precision", "rules": str(bad)}, source="r.toml")
    with pytest.raises(ConfigError, match="no such configuration file"):
        component.structure_args(
            {"stage": "symbols", "symbols": str(tmp_path / "x.toml")}, source="r.toml"
        )
