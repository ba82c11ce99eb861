"""The records behind the golden fixtures in ``tests/golden/v1/``. Fixed values only.

These bytes were written once by schema version 1 (``python -m tests.golden.write``) and
are never rewritten: every later version must still decode them to these records.
"""

from __future__ import annotations

from decimal import Decimal

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
    Record,
    Resync,
    Side,
    SourceState,
    SourceStatus,
    Trade,
)

D = Decimal
T0 = 1_764_547_200_000_000_000  # 2025-12-01T00:00:00Z

SPOT = Instrument(exchange="binance", market=MarketType.SPOT, native_symbol="BTCUSDT",
                  symbol="BTC/USDT", tick=D("0.01"), lot=D("0.00001"))
SWAP = Instrument(exchange="okx", market=MarketType.PERPETUAL, native_symbol="BTC-USDT-SWAP",
                  symbol="BTC/USDT:USDT", tick=D("0.1"), lot=D("0.01"))
INVERSE = Instrument(exchange="binance", market=MarketType.PERPETUAL,
                     native_symbol="BTCUSD_PERP", symbol="BTC/USD:BTC")

SINGLE: dict[str, Record] = {
    "trade": Trade(instrument=SPOT, receive_time_ns=T0 + 350_000, exchange_time_ns=T0,
                   match_time_ns=T0 - 1_000, sequence=42, trade_id=5_123_456_789,
                   price=D("68000.10"), size=D("0.00001"), side=Side.BUY),
    "trade_flagged": Trade(instrument=SWAP, receive_time_ns=T0, trade_id=1, price=D("1e-8"),
                           size=D("123456789012345678901234567890"), side=Side.SELL,
                           quality=Quality(QualityLevel.SUSPICIOUS, ("price_jump",)),
                           extra=(("okx.count", "3"),)),
    "book_snapshot": BookSnapshot(instrument=SPOT, receive_time_ns=T0, exchange_time_ns=T0,
                                  last_update_id=1_000,
                                  bids=((D("68000.10"), D("1.5")), (D("68000.00"), D("2"))),
                                  asks=((D("68000.20"), D("0.75")),)),
    "book_delta": BookDelta(instrument=SWAP, receive_time_ns=T0, exchange_time_ns=T0,
                            first_update_id=1_001, final_update_id=1_003,
                            prev_final_update_id=1_000, bids=((D("68000.1"), D("0")),),
                            asks=((D("68000.3"), D("4.2")),), checksum=-123456789),
    "bbo": BestBidOffer(instrument=SPOT, receive_time_ns=T0, update_id=1_004,
                        bid_price=D("68000.10"), bid_size=D("1.5"), ask_price=D("68000.20"),
                        ask_size=D("0.75")),
    "funding": FundingRate(instrument=SWAP, receive_time_ns=T0, exchange_time_ns=T0,
                           rate=D("0.000100"), predicted_rate=D("-0.00002"),
                           funding_time_ns=T0 + 8 * 3_600_000_000_000,
                           next_funding_time_ns=T0 + 16 * 3_600_000_000_000),
    "mark_price": MarkPrice(instrument=INVERSE, receive_time_ns=T0, exchange_time_ns=T0,
                            mark_price=D("68001.5"), index_price=D("68000.9"),
                            estimated_settle_price=D("68002")),
    "liquidation": Liquidation(instrument=INVERSE, receive_time_ns=T0, exchange_time_ns=T0,
                               side=Side.SELL, price=D("67000"), size=D("3"),
                               average_price=D("67010.5"), filled_size=D("3"),
                               status="FILLED"),
    "candle": Candle(instrument=SPOT, receive_time_ns=T0, interval_ns=60_000_000_000,
                     open_time_ns=T0, open=D("68000"), high=D("68100.5"), low=D("67950"),
                     close=D("68050.25"), volume=D("12.34567"), quote_volume=D("840000.1"),
                     trade_count=321, closed=True),
    "gap": Gap(instrument=SPOT, receive_time_ns=T0, stream="trade", first_missing=100,
               last_missing=120, reason="REST backfill returned nothing"),
    "resync": Resync(instrument=SWAP, receive_time_ns=T0, stream="book", reason="seq gap",
                     old_sequence=1_003, new_sequence=2_000),
    "source_status": SourceStatus(instrument=SPOT, receive_time_ns=T0, stream="trade",
                                  state=SourceState.SILENT, detail="no frame for 30 s"),
}

MIXED_BATCH: list[Record] = [SINGLE[name] for name in sorted(SINGLE)]
TRADE_BATCH: list[Record] = [
    Trade(instrument=SPOT if i % 3 else SWAP, receive_time_ns=T0 + i, exchange_time_ns=(
        None if i == 4 else T0 + i - 5), sequence=i, trade_id=1_000 + i,
          price=D("68000.10") + i, size=D("0.5"), side=Side.BUY if i % 2 else Side.SELL,
          quality=Quality(QualityLevel.REPAIRED, ("off_tick",)) if i == 2 else Quality())
    for i in range(10)
]
