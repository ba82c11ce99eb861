"""The model: frozen records, instrument identity, quality, normalized symbols."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

import mdp.model
from mdp.model import (
    PERFECT,
    RECORD_TYPES,
    Instrument,
    MarketType,
    Quality,
    QualityLevel,
    Reason,
    Side,
    Trade,
    normalized_symbol,
)

SPOT = Instrument(
    exchange="binance", market=MarketType.SPOT, native_symbol="BTCUSDT", symbol="BTC/USDT"
)


def test_records_are_frozen_and_slotted() -> None:
    trade = Trade(
        instrument=SPOT,
        receive_time_ns=1,
        trade_id=1,
        price=Decimal("1"),
        size=Decimal("1"),
        side=Side.BUY,
    )
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        trade.price = Decimal("2")  # type: ignore[misc]
    with pytest.raises(AttributeError):
        trade.__dict__  # noqa: B018
    for cls in RECORD_TYPES:
        assert attrs.has(cls)
        assert "__dict__" not in dir(cls), cls
        assert cls.__setattr__ is not object.__setattr__, cls


def test_missing_exchange_time_is_none_not_the_receive_time() -> None:
    trade = Trade(
        instrument=SPOT,
        receive_time_ns=123,
        trade_id=1,
        price=Decimal("1"),
        size=Decimal("1"),
        side=Side.SELL,
    )
    assert trade.exchange_time_ns is None
    assert trade.match_time_ns is None
    assert trade.quality is PERFECT


def test_every_record_has_a_distinct_kind() -> None:
    kinds = [cls.kind for cls in RECORD_TYPES]
    assert len(set(kinds)) == len(kinds) == 11


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("btc", "usdt"), "BTC/USDT"),
        (("BTC", "USDT", {"settle": "USDT"}), "BTC/USDT:USDT"),
        (("BTC", "USD", {"settle": "BTC"}), "BTC/USD:BTC"),
        (("BTC", "USDT", {"settle": "USDT", "expiry": "261225"}), "BTC/USDT:USDT-261225"),
        (
            (
                "BTC",
                "USD",
                {"settle": "BTC", "expiry": "261225", "strike": "50000", "option_type": "C"},
            ),
            "BTC/USD:BTC-261225-50000-C",
        ),
    ],
)
def test_normalized_symbols(args: tuple, expected: str) -> None:  # type: ignore[type-arg]
    kwargs = args[2] if len(args) == 3 else {}
    assert normalized_symbol(args[0], args[1], **kwargs) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"expiry": "261225"},
        {"settle": "BTC", "strike": "1"},
        {"settle": "BTC", "expiry": "1", "strike": "1", "option_type": "X"},
    ],
)
def test_inconsistent_symbols_are_refused(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"expiry|option"):
        normalized_symbol("BTC", "USD", **kwargs)


def test_quality_only_gets_worse() -> None:
    q = PERFECT.worsened(QualityLevel.REPAIRED, Reason.OFF_TICK)
    q = q.worsened(QualityLevel.SUSPICIOUS, Reason.PRICE_JUMP)
    q = q.worsened(QualityLevel.REPAIRED, Reason.RECEIVE_TIME_FILLED)
    assert q == Quality(QualityLevel.SUSPICIOUS, ("off_tick", "price_jump", "receive_time_filled"))
    assert q.worsened(QualityLevel.REPAIRED, Reason.OFF_TICK) is q
    assert PERFECT.level is QualityLevel.PERFECT
    assert PERFECT.reasons == ()
    assert max(QualityLevel) is QualityLevel.UNREPAIRABLE


def test_no_exchange_is_hard_coded_in_the_model() -> None:
    model_dir = Path(mdp.model.__file__).parent
    for path in model_dir.glob("*.py"):
        text = path.read_text().lower()
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        code = re.sub(r'""".*?"""', "", code, flags=re.S)  # docstrings may give examples
        for name in ("binance", "okx", "bybit", "coinbase", "kraken"):
            assert name not in code, f"{path.name} names {name}"


def test_public_surface() -> None:
    assert set(mdp.model.__all__) == {
        "PERFECT",
        "RECORD_TYPES",
        "BestBidOffer",
        "BookDelta",
        "BookSnapshot",
        "Candle",
        "FundingRate",
        "Gap",
        "Instrument",
        "Kind",
        "Level",
        "Liquidation",
        "MarkPrice",
        "MarketType",
        "Quality",
        "QualityLevel",
        "Reason",
        "Record",
        "Resync",
        "Side",
        "SourceState",
        "SourceStatus",
        "Trade",
        "decimal_from_wire",
        "decimal_to_wire",
        "normalized_symbol",
        "parse_decimal",
    }
    for name in mdp.model.__all__:
        assert getattr(mdp.model, name) is not None
