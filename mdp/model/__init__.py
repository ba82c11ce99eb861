"""The unified market-data model: one set of frozen records for every exchange."""

from mdp.model._instrument import Instrument, MarketType, normalized_symbol
from mdp.model._numbers import decimal_from_wire, decimal_to_wire, parse_decimal
from mdp.model._quality import PERFECT, Quality, QualityLevel, Reason
from mdp.model._records import (
    RECORD_TYPES,
    BestBidOffer,
    BookDelta,
    BookSnapshot,
    Candle,
    FundingRate,
    Gap,
    Kind,
    Level,
    Liquidation,
    MarkPrice,
    Record,
    Resync,
    Side,
    SourceState,
    SourceStatus,
    Trade,
)

__all__ = [
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
]
