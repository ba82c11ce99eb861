"""What the envelope and batch codecs share: enum maps, instruments, versions, parsing."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar, cast

from google.protobuf.message import DecodeError

from mdp._exceptions import UnsupportedSchemaVersion, WireError
from mdp._version import SCHEMA_VERSION
from mdp.model import (
    Instrument,
    Level,
    MarketType,
    QualityLevel,
    Side,
    SourceState,
    decimal_from_wire,
)
from mdp.v1 import envelope_pb2 as pb
from mdp.v1 import market_pb2 as mpb

T = TypeVar("T")

_MARKET_TO_PB = {
    MarketType.SPOT: pb.MARKET_TYPE_SPOT,
    MarketType.PERPETUAL: pb.MARKET_TYPE_PERPETUAL,
    MarketType.FUTURE: pb.MARKET_TYPE_FUTURE,
    MarketType.OPTION: pb.MARKET_TYPE_OPTION,
}
_MARKET_FROM_PB = {v: k for k, v in _MARKET_TO_PB.items()}
_SIDE_TO_PB = {Side.UNKNOWN: mpb.SIDE_UNKNOWN, Side.BUY: mpb.SIDE_BUY, Side.SELL: mpb.SIDE_SELL}
_SIDE_FROM_PB = {v: k for k, v in _SIDE_TO_PB.items()}
_STATE_FROM_PB = {
    0: SourceState.UNKNOWN,
    1: SourceState.CONNECTING,
    2: SourceState.LIVE,
    3: SourceState.SILENT,
    4: SourceState.STALE,
    5: SourceState.DISCONNECTED,
    6: SourceState.DEGRADED,
}
_STATE_TO_PB = {v: k for k, v in _STATE_FROM_PB.items()}
_QUALITY_FROM_PB = {level.value: level for level in QualityLevel}

_new = object.__new__


_new = object.__new__


def _promote(fields: object, cls: type[T]) -> T:
    """Give a record built on its mutable twin its public frozen class (the layouts match:
    the public class adds no fields)."""
    fields.__class__ = cls
    return cast(T, fields)


_dec = decimal_from_wire  # exact, cached: see mdp/model/_numbers.py


def _opt_dec(message: Any, field: str) -> Decimal | None:
    return decimal_from_wire(getattr(message, field)) if message.HasField(field) else None


def _opt_int(message: Any, field: str) -> int | None:
    return int(getattr(message, field)) if message.HasField(field) else None


def _levels_to_pb(target: Any, levels: Sequence[Level]) -> None:
    add = target.add
    for price, size in levels:
        add(price=str(price), size=str(size))


def _levels_from_pb(levels: Any) -> tuple[Level, ...]:
    return tuple((_dec(level.price), _dec(level.size)) for level in levels)


def _source_to_pb(message: Any, instrument: Instrument) -> None:
    message.exchange = instrument.exchange
    message.market = _MARKET_TO_PB[instrument.market]
    message.native_symbol = instrument.native_symbol
    message.symbol = instrument.symbol
    if instrument.tick is not None:
        message.tick = str(instrument.tick)
    if instrument.lot is not None:
        message.lot = str(instrument.lot)


def _instrument_from_pb(message: Any) -> Instrument:
    if not message.exchange or not message.native_symbol:
        raise WireError("envelope source has no exchange or symbol: not an mdp message")
    market = _MARKET_FROM_PB.get(message.market)
    if market is None:
        raise WireError(f"envelope source has unknown market type {message.market}")
    return Instrument(
        exchange=message.exchange,
        market=market,
        native_symbol=message.native_symbol,
        symbol=message.symbol,
        tick=_dec(message.tick) if message.tick else None,
        lot=_dec(message.lot) if message.lot else None,
    )


_KIND_NAMES = {value: name for name, value in pb.Kind.items()}


def _no_payload(env: Any) -> WireError:
    if env.kind:
        name = _KIND_NAMES.get(env.kind, f"kind {env.kind}")
        return WireError(
            f"envelope carries a payload this reader does not know ({name}); upgrade mdp"
        )
    return WireError("envelope has no payload: not an mdp message")


def _check_version(version: int) -> None:
    if version == 0:
        raise WireError("message has no schema version: not an mdp message")
    if version > SCHEMA_VERSION:
        raise UnsupportedSchemaVersion(version, SCHEMA_VERSION)


def _parse(message: Any, data: bytes, what: str) -> None:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise WireError(f"an {what} is bytes, not {type(data).__name__}")
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise WireError(f"bytes are not an mdp {what}: {exc}") from None
