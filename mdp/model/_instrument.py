"""Instrument identity: which thing on which venue a record is about.

No exchange is named here: an exchange is a tag (``"binance"``, ``"okx"``), and the
adapters own the mapping from their native symbols to the normalized form.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

__all__ = ["Instrument", "MarketType", "normalized_symbol"]


class MarketType(enum.StrEnum):
    SPOT = "spot"
    PERPETUAL = "perpetual"
    FUTURE = "future"
    OPTION = "option"


def normalized_symbol(
    base: str,
    quote: str,
    *,
    settle: str | None = None,
    expiry: str | None = None,
    strike: str | None = None,
    option_type: str | None = None,
) -> str:
    """The normalized symbol: ``BTC/USDT`` (spot), ``BTC/USDT:USDT`` (USDT-margined
    perpetual), ``BTC/USD:BTC`` (inverse), ``BTC/USDT:USDT-261225`` (dated future),
    ``BTC/USD:BTC-261225-50000-C`` (option).

    ``settle`` is the margin/settlement currency and is absent only for spot.
    """
    if not base or not quote:
        raise ValueError("a symbol needs both a base and a quote currency")
    text = f"{base.upper()}/{quote.upper()}"
    if settle is None:
        if expiry or strike or option_type:
            raise ValueError("expiry, strike and option type need a settlement currency")
        return text
    text = f"{text}:{settle.upper()}"
    if expiry:
        text = f"{text}-{expiry}"
    if strike or option_type:
        if not (expiry and strike and option_type in ("C", "P")):
            raise ValueError("an option needs an expiry, a strike and option type C or P")
        text = f"{text}-{strike}-{option_type}"
    return text


@attrs.frozen(kw_only=True, cache_hash=True)
class Instrument:
    """An instrument on one venue.

    ``tick`` and ``lot`` are the price and size increments, ``None`` while unknown (the
    cleaning pipeline fills them from instrument metadata). Instruments are long-lived
    dictionary keys (per-instrument state everywhere), so the hash is computed once.
    """

    exchange: str
    market: MarketType
    native_symbol: str
    symbol: str
    tick: Decimal | None = None
    lot: Decimal | None = None
