"""Encode and decode cost per trade, with the model conversion included.

    python bench/bench_wire.py

Prints a Markdown table: single envelopes, and batches of 100; the protobuf-only floor
(serialize/parse of an already-built batch) for comparison.
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import per_call_ns

from mdp import wire
from mdp.model import Instrument, MarketType, Side, Trade, _records
from mdp.v1 import envelope_pb2
from mdp.wire._batch import _envelopes_to_pb
from mdp.wire._common import _source_to_pb


def trades(n: int, seed: int = 1) -> list[Trade]:
    rng = random.Random(seed)
    inst = Instrument(
        exchange="binance",
        market=MarketType.SPOT,
        native_symbol="BTCUSDT",
        symbol="BTC/USDT",
        tick=Decimal("0.01"),
        lot=Decimal("0.00001"),
    )
    t0 = 1_764_000_000_000_000_000
    out = []
    price = 6_800_000
    for i in range(n):
        price += rng.randint(-3, 3)
        out.append(
            Trade(
                instrument=inst,
                receive_time_ns=t0 + i * 1_000_000 + 350_000,
                exchange_time_ns=t0 + i * 1_000_000,
                match_time_ns=t0 + i * 1_000_000 - 1_000,
                sequence=i,
                trade_id=5_000_000_000 + i,
                price=Decimal(price).scaleb(-2),
                size=Decimal(rng.randint(1, 500_000)).scaleb(-5),
                side=Side.BUY if rng.random() < 0.5 else Side.SELL,
            )
        )
    return out


def main() -> None:
    batch = trades(100)
    one = batch[0]
    single_bytes = wire.encode(one)
    batch_bytes = wire.encode_batch(batch)
    parsed = envelope_pb2.EnvelopeBatch()
    parsed.ParseFromString(batch_bytes)

    def pb_parse() -> None:
        envelope_pb2.EnvelopeBatch().ParseFromString(batch_bytes)

    # The same batch written one envelope per trade (what mixed batches use), to show what
    # the columnar layout buys.
    per_record = envelope_pb2.EnvelopeBatch(schema_version=1)
    _source_to_pb(per_record.sources.add(), one.instrument)
    _envelopes_to_pb(per_record.records, batch, lambda _: 0)
    per_record_bytes = per_record.SerializeToString()

    def frozen_init() -> None:
        Trade(
            instrument=one.instrument,
            receive_time_ns=1,
            exchange_time_ns=2,
            match_time_ns=3,
            sequence=4,
            trade_id=5,
            price=one.price,
            size=one.size,
            side=Side.BUY,
        )

    def twin_and_swap() -> None:
        o = object.__new__(_records._TradeFields)
        o.instrument = one.instrument
        o.receive_time_ns = 1
        o.exchange_time_ns = 2
        o.match_time_ns = 3
        o.sequence = 4
        o.quality = one.quality
        o.extra = ()
        o.trade_id = 5
        o.price = one.price
        o.size = one.size
        o.side = Side.BUY
        o.__class__ = Trade

    rows = [
        ("encode, single envelope", per_call_ns(lambda: wire.encode(one))),
        ("decode, single envelope", per_call_ns(lambda: wire.decode(single_bytes))),
        (
            "encode, batch of 100 (per trade)",
            per_call_ns(lambda: wire.encode_batch(batch), items=100),
        ),
        (
            "decode, batch of 100 (per trade)",
            per_call_ns(lambda: wire.decode_batch(batch_bytes), items=100),
        ),
        (
            "decode, batch of 100 written one envelope per trade (per trade)",
            per_call_ns(lambda: wire.decode_batch(per_record_bytes), items=100),
        ),
        ("build a Trade with the frozen __init__", per_call_ns(frozen_init)),
        ("build a Trade on its mutable twin, then swap class", per_call_ns(twin_and_swap)),
        (
            "protobuf floor: serialize built batch (per trade)",
            per_call_ns(parsed.SerializeToString, items=100),
        ),
        ("protobuf floor: parse batch (per trade)", per_call_ns(pb_parse, items=100)),
    ]
    per_trade = len(batch_bytes) / 100
    print(f"trade: {len(single_bytes)} bytes single, {per_trade:.1f} bytes each in a batch of 100")
    print()
    print("| operation | median µs per trade |")
    print("|---|---:|")
    for name, ns in rows:
        print(f"| {name} | {ns / 1000:.2f} |")


if __name__ == "__main__":
    main()
