"""Topic names: ``<kind>.<exchange>.<market>.<symbol>`` for every market type."""

from __future__ import annotations

import re

import pytest

from mdp.model import Instrument, Kind, MarketType
from mdp.wire import parse_topic, symbol_slug, topic_for


def inst(market: MarketType, symbol: str, exchange: str = "binance") -> Instrument:
    return Instrument(exchange=exchange, market=market, native_symbol="X", symbol=symbol)


@pytest.mark.parametrize(
    ("kind", "instrument", "topic"),
    [
        (Kind.TRADE, inst(MarketType.SPOT, "BTC/USDT"), "trade.binance.spot.btc-usdt"),
        (
            Kind.BOOK_DELTA,
            inst(MarketType.PERPETUAL, "BTC/USDT:USDT"),
            "book_delta.binance.perpetual.btc-usdt-usdt",
        ),
        (
            Kind.FUNDING_RATE,
            inst(MarketType.PERPETUAL, "BTC/USD:BTC", "okx"),
            "funding.okx.perpetual.btc-usd-btc",
        ),
        (
            Kind.MARK_PRICE,
            inst(MarketType.FUTURE, "BTC/USDT:USDT-261225"),
            "mark_price.binance.future.btc-usdt-usdt-261225",
        ),
        (
            Kind.BEST_BID_OFFER,
            inst(MarketType.OPTION, "BTC/USD:BTC-261225-50000-C", "okx"),
            "bbo.okx.option.btc-usd-btc-261225-50000-c",
        ),
    ],
)
def test_topic_names(kind: Kind, instrument: Instrument, topic: str) -> None:
    assert topic_for(kind, instrument) == topic
    assert re.fullmatch(r"[a-zA-Z0-9._-]+", topic)
    parts = parse_topic(topic)
    assert (parts.kind, parts.exchange, parts.market) == (
        kind,
        instrument.exchange,
        instrument.market,
    )
    assert parts.symbol_slug == symbol_slug(instrument.symbol)


def test_every_kind_has_a_topic() -> None:
    topics = {topic_for(kind, inst(MarketType.SPOT, "ETH/BTC")) for kind in Kind}
    assert len(topics) == len(Kind)


def test_a_dot_in_a_symbol_does_not_split_the_topic() -> None:
    topic = topic_for(Kind.TRADE, inst(MarketType.SPOT, "BTC.B/USDT"))
    assert topic == "trade.binance.spot.btc_b-usdt"
    assert len(topic.split(".")) == 4


@pytest.mark.parametrize(
    ("exchange", "symbol"),
    [
        ("Binance", "BTC/USDT"),
        ("bin ance", "BTC/USDT"),
        ("binance", "BTC/US DT"),
        ("binance", "BTC/€"),
    ],
)
def test_bad_names_are_refused(exchange: str, symbol: str) -> None:
    with pytest.raises(ValueError, match=r"exchange tag|Kafka topic"):
        topic_for(Kind.TRADE, inst(MarketType.SPOT, symbol, exchange))


@pytest.mark.parametrize(
    "topic", ["trade.binance.spot", "nope.binance.spot.x", "trade.binance.margin.x", "a.b.c.d.e"]
)
def test_parse_refuses_foreign_topics(topic: str) -> None:
    with pytest.raises(ValueError, match=r"topic|kind|market|<kind>"):
        parse_topic(topic)
