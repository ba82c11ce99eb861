"""The codec: exact round trips for every kind, alone and in batches; clear errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdp import SCHEMA_VERSION, UnsupportedSchemaVersion, WireError, wire
from mdp.model import PERFECT, RECORD_TYPES, Instrument, MarketType, Side, Trade
from mdp.v1 import envelope_pb2 as pb
from tests.strategies import RECORDS, records, trades


def same(a: Any, b: Any) -> bool:
    """Equal, and equal in representation: Decimal("1.0") == Decimal("1.00") but an exact
    codec keeps the exponent too."""
    return a == b and repr(a) == repr(b) and type(a) is type(b)


def test_a_strategy_for_every_kind() -> None:
    assert set(RECORDS) == set(RECORD_TYPES)


@pytest.mark.parametrize("cls", RECORD_TYPES, ids=lambda c: c.__name__)
@settings(max_examples=60)
@given(data=st.data())
def test_single_round_trip_is_exact(cls: type, data: st.DataObject) -> None:
    record = data.draw(RECORDS[cls])
    back = wire.decode(wire.encode(record))
    assert same(back, record)


@settings(max_examples=60)
@given(st.lists(records, min_size=1, max_size=20))
def test_mixed_batch_round_trip_is_exact(batch: list[Any]) -> None:
    back = wire.decode_batch(wire.encode_batch(batch))
    assert len(back) == len(batch)
    for a, b in zip(back, batch, strict=True):
        assert same(a, b)


@settings(max_examples=80)
@given(st.lists(trades, min_size=1, max_size=30))
def test_trade_batch_round_trip_is_exact(batch: list[Trade]) -> None:
    data = wire.encode_batch(batch)
    parsed = pb.EnvelopeBatch.FromString(data)
    assert parsed.HasField("trades")
    assert not parsed.records
    back = wire.decode_batch(data)
    for a, b in zip(back, batch, strict=True):
        assert same(a, b)


def _spot() -> Instrument:
    return Instrument(
        exchange="binance", market=MarketType.SPOT, native_symbol="BTCUSDT", symbol="BTC/USDT"
    )


def _trade(**kw: Any) -> Trade:
    args: dict[str, Any] = {
        "instrument": _spot(),
        "receive_time_ns": 5,
        "trade_id": 1,
        "price": Decimal("1.5"),
        "size": Decimal("2"),
        "side": Side.BUY,
    }
    args.update(kw)
    return Trade(**args)


def test_perfect_records_share_the_singleton_and_missing_times_stay_missing() -> None:
    for back in (
        wire.decode(wire.encode(_trade())),
        wire.decode_batch(wire.encode_batch([_trade()]))[0],
    ):
        assert back.quality is PERFECT
        assert back.exchange_time_ns is None
        assert back.match_time_ns is None
        assert back.receive_time_ns == 5


def test_a_batch_writes_each_instrument_once() -> None:
    inst = _spot()
    batch = [_trade(instrument=inst, trade_id=i) for i in range(50)]
    parsed = pb.EnvelopeBatch.FromString(wire.encode_batch(batch))
    assert len(parsed.sources) == 1
    assert not parsed.trades.source_index  # all rows on source 0: no column at all


def test_empty_batch() -> None:
    assert wire.decode_batch(wire.encode_batch([])) == []


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff\xff\xff\xff", b"garbage bytes that are not protobuf \x00\x01", b"\x08\x01"],
    ids=["empty", "ff", "text", "version-only"],
)
def test_garbage_raises_wire_error(data: bytes) -> None:
    with pytest.raises(WireError, match="mdp"):
        wire.decode(data)


@pytest.mark.parametrize("data", [b"", b"\xff\xff", b"\x12\x03abc"])
def test_garbage_batch_raises_wire_error(data: bytes) -> None:
    with pytest.raises(WireError):
        wire.decode_batch(data)


def test_not_bytes_raises_wire_error() -> None:
    with pytest.raises(WireError, match="bytes"):
        wire.decode("a string")  # type: ignore[arg-type]


def test_unknown_schema_version_is_refused() -> None:
    env = pb.Envelope.FromString(wire.encode(_trade()))
    env.schema_version = SCHEMA_VERSION + 1
    with pytest.raises(UnsupportedSchemaVersion, match="upgrade") as info:
        wire.decode(env.SerializeToString())
    assert info.value.version == SCHEMA_VERSION + 1
    batch = pb.EnvelopeBatch.FromString(wire.encode_batch([_trade()]))
    batch.schema_version = 7
    with pytest.raises(UnsupportedSchemaVersion):
        wire.decode_batch(batch.SerializeToString())


def test_a_bad_number_on_the_wire_is_a_wire_error() -> None:
    env = pb.Envelope.FromString(wire.encode(_trade()))
    env.trade.price = "12,5"
    with pytest.raises(WireError, match="number"):
        wire.decode(env.SerializeToString())
    batch = pb.EnvelopeBatch.FromString(wire.encode_batch([_trade()]))
    batch.trades.price[0] = "NaN"
    with pytest.raises(WireError, match="number"):
        wire.decode_batch(batch.SerializeToString())


def test_ragged_columns_are_a_wire_error() -> None:
    batch = pb.EnvelopeBatch.FromString(wire.encode_batch([_trade(), _trade(trade_id=2)]))
    del batch.trades.size[1]
    with pytest.raises(WireError, match="lengths"):
        wire.decode_batch(batch.SerializeToString())


def test_out_of_range_values_fail_to_encode_clearly() -> None:
    with pytest.raises(WireError, match="cannot encode"):
        wire.encode(_trade(trade_id=-1))
    with pytest.raises(WireError, match="cannot encode"):
        wire.encode_batch([_trade(trade_id=2**64)])


def test_encoding_something_else_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not an mdp record"):
        wire.encode(object())  # type: ignore[arg-type]
