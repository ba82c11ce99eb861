"""Kafka topic names: ``<kind>.<exchange>.<market>.<symbol>``.

The symbol part is the normalized symbol in lower case with ``/`` and ``:`` turned into
``-``, so ``BTC/USDT`` on Binance spot trades is ``trade.binance.spot.btc-usdt`` and the
USDT-margined perpetual ``BTC/USDT:USDT`` is ``trade.binance.perpetual.btc-usdt-usdt``.
Kafka allows ``[a-zA-Z0-9._-]`` in a topic name; a dot in a symbol becomes ``_`` so that
the four parts stay apart.
"""

from __future__ import annotations

import re

import attrs

from mdp.model import Instrument, Kind, MarketType

__all__ = ["TopicName", "parse_topic", "symbol_slug", "topic_for"]

_EXCHANGE_TAG = re.compile(r"[a-z0-9_]+")
_SLUG_TRANSLATION = str.maketrans({"/": "-", ":": "-", ".": "_"})
_SLUG = re.compile(r"[a-z0-9_-]+")
_MAX_TOPIC_LENGTH = 249


def symbol_slug(symbol: str) -> str:
    """The topic form of a normalized symbol: ``BTC/USDT:USDT`` → ``btc-usdt-usdt``."""
    slug = symbol.lower().translate(_SLUG_TRANSLATION)
    if not _SLUG.fullmatch(slug):
        raise ValueError(f"symbol {symbol!r} has characters a Kafka topic cannot carry")
    return slug


def topic_for(kind: Kind, instrument: Instrument) -> str:
    """The topic a record of ``kind`` about ``instrument`` is published to."""
    if not _EXCHANGE_TAG.fullmatch(instrument.exchange):
        raise ValueError(
            f"exchange tag {instrument.exchange!r} must be lower-case letters, digits or _"
        )
    topic = f"{kind.value}.{instrument.exchange}.{instrument.market.value}."
    topic += symbol_slug(instrument.symbol)
    if len(topic) > _MAX_TOPIC_LENGTH:
        raise ValueError(f"topic {topic!r} is longer than Kafka's {_MAX_TOPIC_LENGTH} characters")
    return topic


@attrs.frozen
class TopicName:
    kind: Kind
    exchange: str
    market: MarketType
    symbol_slug: str


def parse_topic(topic: str) -> TopicName:
    """Split a topic name back into its parts; ``ValueError`` if it is not an mdp topic."""
    parts = topic.split(".")
    if len(parts) != 4:
        raise ValueError(f"{topic!r} is not <kind>.<exchange>.<market>.<symbol>")
    kind, exchange, market, slug = parts
    try:
        return TopicName(Kind(kind), exchange, MarketType(market), slug)
    except ValueError:
        raise ValueError(f"{topic!r} names an unknown kind or market") from None
