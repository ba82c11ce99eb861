"""Records ↔ one ``EnvelopeBatch``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mdp._exceptions import InvalidNumber, WireError
from mdp._version import SCHEMA_VERSION
from mdp.model import (
    Instrument,
    Record,
    Trade,
)
from mdp.v1 import envelope_pb2 as pb
from mdp.wire._columns import _trade_columns_to_pb, _trades_from_columns
from mdp.wire._common import _check_version, _instrument_from_pb, _no_payload, _parse, _source_to_pb
from mdp.wire._envelope import _DECODERS, _ENCODERS, _encoder, _header_to_pb


def encode_batch(records: Sequence[Record]) -> bytes:
    """Records as one ``EnvelopeBatch``; each instrument is written once per batch.

    A batch of trades only is written column by column (``TradeColumns``), anything else
    one envelope per record.
    """
    batch = pb.EnvelopeBatch(schema_version=SCHEMA_VERSION)
    source_index: dict[int, int] = {}  # id(instrument) -> index; the records keep them alive
    add_source = batch.sources.add

    def index_of(instrument: Instrument) -> int:
        index = source_index.get(id(instrument))
        if index is None:
            index = source_index[id(instrument)] = len(source_index)
            _source_to_pb(add_source(), instrument)
        return index

    try:
        if records and all(type(record) is Trade for record in records):
            _trade_columns_to_pb(batch.trades, records, index_of)  # type: ignore[arg-type]
        else:
            _envelopes_to_pb(batch.records, records, index_of)
    except (ValueError, TypeError) as exc:  # a value out of the wire type's range
        raise WireError(f"cannot encode batch: {exc}") from None
    return batch.SerializeToString()


def _envelopes_to_pb(
    envelopes: Any, records: Sequence[Record], index_of: Callable[[Instrument], int]
) -> None:
    add_record = envelopes.add
    encoders = _ENCODERS
    for record in records:
        encoder = encoders.get(type(record)) or _encoder(record)
        env = add_record(source_index=index_of(record.instrument))
        encoder(env, record)
        _header_to_pb(env, record)


def decode_batch(data: bytes) -> list[Record]:
    """One ``EnvelopeBatch`` back into its records, in order."""
    batch = pb.EnvelopeBatch()
    _parse(batch, data, "EnvelopeBatch")
    _check_version(batch.schema_version)
    instruments = [_instrument_from_pb(source) for source in batch.sources]
    try:
        if batch.HasField("trades"):
            if batch.records:
                raise WireError("batch has both envelopes and trade columns: not an mdp batch")
            return _trades_from_columns(batch.trades, instruments)  # type: ignore[return-value]
        return _records_from_envelopes(batch.records, instruments)
    except InvalidNumber as exc:
        raise WireError(f"batch holds a bad number: {exc}") from None
    except IndexError:
        raise WireError("batch record names a source the batch does not have") from None


def _records_from_envelopes(envelopes: Any, instruments: list[Instrument]) -> list[Record]:
    decoders = _DECODERS
    out: list[Record] = []
    append = out.append
    for env in envelopes:
        decoder = decoders.get(env.WhichOneof("payload") or "")
        if decoder is None:
            raise _no_payload(env)
        append(decoder(env, instruments[env.source_index]))
    return out
