"""Hypothesis strategies for the model, shared by every property test."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from mdp.model import (
    BestBidOffer,
    BookDelta,
    BookSnapshot,
    Candle,
    FundingRate,
    Gap,
    Instrument,
    Liquidation,
    MarketType,
    MarkPrice,
    Quality,
    QualityLevel,
    Reason,
    Resync,
    Side,
    SourceState,
    SourceStatus,
    Trade,
)

INT64 = st.integers(-(2**63), 2**63 - 1)
UINT64 = st.integers(0, 2**64 - 1)
TIME_NS = st.integers(0, 2**63 - 1)
OPT_TIME_NS = st.none() | TIME_NS


@st.composite
def decimal_strings(draw: st.DrawFn, min_exp: int = -18, max_exp: int = 15) -> str:
    """A decimal string as an exchange might send it, with magnitude in
    [10**min_exp, 10**max_exp]: plain (``"68000.10"``), integer, or exponent (``"1e-8"``)."""
    scale = draw(st.integers(0, -min_exp))  # digits after the point
    max_mantissa = 10 ** (max_exp + scale)
    mantissa = draw(st.integers(1, max_mantissa))
    text = str(mantissa)
    style = draw(st.sampled_from(["plain", "exponent", "padded"]))
    if style == "exponent":
        return f"{text}e-{scale}" if scale else f"{text}e0"
    if scale == 0:
        return text
    text = text.rjust(scale + 1, "0")
    text = f"{text[:-scale]}.{text[-scale:]}"
    if style == "padded":
        text += "0" * draw(st.integers(0, 3))
    return text


def decimals(min_exp: int = -18, max_exp: int = 15) -> st.SearchStrategy[Decimal]:
    return decimal_strings(min_exp, max_exp).map(Decimal)


PRICES = decimals(-12, 12)
SIZES = decimals(-18, 15) | st.just(Decimal("0"))

instruments = st.builds(
    Instrument,
    exchange=st.sampled_from(["binance", "okx", "some_venue"]),
    market=st.sampled_from(list(MarketType)),
    native_symbol=st.sampled_from(["BTCUSDT", "BTC-USDT-SWAP", "ETHUSD_PERP"]),
    symbol=st.sampled_from(["BTC/USDT", "BTC/USDT:USDT", "ETH/USD:ETH"]),
    tick=st.none() | decimals(-8, 2),
    lot=st.none() | decimals(-8, 2),
)

qualities = st.builds(
    Quality,
    level=st.sampled_from(list(QualityLevel)),
    reasons=st.lists(st.sampled_from([r.value for r in Reason]), unique=True, max_size=3).map(
        tuple
    ),
)

extras = st.dictionaries(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=8),
    st.text(st.characters(codec="utf-8"), max_size=12),
    max_size=3,
).map(lambda d: tuple(sorted(d.items())))


def header() -> dict[str, Any]:
    return {
        "instrument": instruments,
        "receive_time_ns": INT64,
        "exchange_time_ns": st.none() | INT64,
        "match_time_ns": st.none() | INT64,
        "sequence": UINT64,
        "quality": qualities,
        "extra": extras,
    }


levels = st.lists(st.tuples(PRICES, SIZES), max_size=5).map(tuple)
sides = st.sampled_from(list(Side))
opt_dec = st.none() | PRICES
opt_uint = st.none() | UINT64

trades = st.builds(Trade, **header(), trade_id=UINT64, price=PRICES, size=SIZES, side=sides)

RECORDS: dict[type, st.SearchStrategy[Any]] = {
    Trade: trades,
    BookSnapshot: st.builds(
        BookSnapshot,
        **header(),
        last_update_id=UINT64,
        bids=levels,
        asks=levels,
        checksum=st.none() | INT64,
    ),
    BookDelta: st.builds(
        BookDelta,
        **header(),
        first_update_id=UINT64,
        final_update_id=UINT64,
        prev_final_update_id=opt_uint,
        bids=levels,
        asks=levels,
        checksum=st.none() | INT64,
    ),
    BestBidOffer: st.builds(
        BestBidOffer,
        **header(),
        bid_price=PRICES,
        bid_size=SIZES,
        ask_price=PRICES,
        ask_size=SIZES,
        update_id=opt_uint,
    ),
    FundingRate: st.builds(
        FundingRate,
        **header(),
        rate=decimals(-8, 0) | decimals(-8, 0).map(lambda d: -d),
        predicted_rate=opt_dec,
        funding_time_ns=st.none() | INT64,
        next_funding_time_ns=st.none() | INT64,
    ),
    MarkPrice: st.builds(
        MarkPrice,
        **header(),
        mark_price=PRICES,
        index_price=opt_dec,
        estimated_settle_price=opt_dec,
    ),
    Liquidation: st.builds(
        Liquidation,
        **header(),
        side=sides,
        price=PRICES,
        size=SIZES,
        average_price=opt_dec,
        filled_size=st.none() | SIZES,
        status=st.sampled_from(["", "FILLED", "NEW"]),
    ),
    Candle: st.builds(
        Candle,
        **header(),
        interval_ns=INT64,
        open_time_ns=INT64,
        open=PRICES,
        high=PRICES,
        low=PRICES,
        close=PRICES,
        volume=SIZES,
        quote_volume=st.none() | SIZES,
        trade_count=opt_uint,
        closed=st.booleans(),
    ),
    Gap: st.builds(
        Gap,
        **header(),
        stream=st.sampled_from(["trade", "book"]),
        first_missing=UINT64,
        last_missing=UINT64,
        reason=st.text(max_size=20),
    ),
    Resync: st.builds(
        Resync,
        **header(),
        stream=st.sampled_from(["trade", "book"]),
        reason=st.text(max_size=20),
        old_sequence=opt_uint,
        new_sequence=opt_uint,
    ),
    SourceStatus: st.builds(
        SourceStatus,
        **header(),
        stream=st.sampled_from(["trade", "book"]),
        state=st.sampled_from(list(SourceState)),
        detail=st.text(max_size=20),
    ),
}

records = st.one_of(*RECORDS.values())
