"""Records ↔ Kafka messages: one ``EnvelopeBatch`` per message, for one topic.

A message carries up to ``records_per_message`` records of one kind about one instrument,
so it has exactly one topic and one key (the normalized symbol). Batching in the message
rather than only in librdkafka matters because the codec's cost is per protobuf call, not
per byte: a columnar batch of trades encodes at about 1 µs a trade, a single envelope per
trade at several (docs/benchmarks.md, "Kafka bus" has the figures). Headers say what the bytes are
without parsing them: ``mdp-schema-version`` and ``content-type``.

:func:`from_message` makes records; :func:`columns_from_message` hands a batch of trades
over as its wire columns instead (a :class:`~mdp.wire._columns.ColumnBatch`), for a reader
that stores columns: building a record per trade is most of a record decoder's cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from mdp._exceptions import UnsupportedSchemaVersion, WireError
from mdp._version import SCHEMA_VERSION
from mdp.model import Instrument, Kind, Record
from mdp.v1 import envelope_pb2 as pb
from mdp.wire import decode, decode_batch, encode_batch, topic_for
from mdp.wire._columns import ColumnBatch, column_batch
from mdp.wire._common import _check_version, _instrument_from_pb, _parse

__all__ = [
    "BATCH_CONTENT_TYPE",
    "ENVELOPE_CONTENT_TYPE",
    "OutMessage",
    "columns_from_message",
    "from_message",
    "to_messages",
]

BATCH_CONTENT_TYPE = b"application/x-protobuf; messageType=mdp.v1.EnvelopeBatch"
ENVELOPE_CONTENT_TYPE = b"application/x-protobuf; messageType=mdp.v1.Envelope"
SCHEMA_HEADER = "mdp-schema-version"
_VERSION_BYTES = str(SCHEMA_VERSION).encode()
HEADERS: list[tuple[str, str | bytes | None]] = [
    (SCHEMA_HEADER, _VERSION_BYTES),
    ("content-type", BATCH_CONTENT_TYPE),
]

_topics: dict[tuple[Kind, Instrument], str] = {}


def _topic(kind: Kind, instrument: Instrument) -> str:
    topic = _topics.get((kind, instrument))
    if topic is None:
        if len(_topics) > 100_000:
            _topics.clear()
        topic = _topics[(kind, instrument)] = topic_for(kind, instrument)
    return topic


@attrs.frozen
class OutMessage:
    """One Kafka message to produce, and how many records it carries."""

    topic: str
    key: bytes
    value: bytes
    count: int
    instrument: Instrument
    # The records it was encoded from (the slice of the batch, which the publication holds
    # until it is acknowledged anyway): per-record latencies are taken from them.
    records: Sequence[Record] = ()


def group_by_topic(records: Sequence[Record]) -> dict[str, list[Record]]:
    """Records per topic, each list in the order given (so order per key holds)."""
    # Keyed by identity (cheap to hash); the records keep their instruments alive.
    groups: dict[tuple[type, int], list[Record]] = {}
    for record in records:
        key = (record.__class__, id(record.instrument))
        group = groups.get(key)
        if group is None:
            group = groups[key] = []
        group.append(record)
    out: dict[str, list[Record]] = {}
    for group in groups.values():
        topic = _topic(group[0].kind, group[0].instrument)
        if topic in out:  # equal instruments that are different objects: keep their order
            return _group_by_value(records)
        out[topic] = group
    return out


def _group_by_value(records: Iterable[Record]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for record in records:
        out.setdefault(_topic(record.kind, record.instrument), []).append(record)
    return out


def to_messages(records: Sequence[Record], records_per_message: int) -> list[OutMessage]:
    """``records`` as messages: grouped per topic, ``records_per_message`` at most each."""
    out: list[OutMessage] = []
    for topic, group in group_by_topic(records).items():
        instrument = group[0].instrument
        key = instrument.symbol.encode()
        for start in range(0, len(group), records_per_message):
            chunk = group[start : start + records_per_message]
            out.append(
                OutMessage(topic, key, encode_batch(chunk), len(chunk), instrument, chunk)
            )
    return out


def _content_type(value: bytes | None, headers: Sequence[tuple[str, bytes]] | None) -> bytes:
    """What the headers say the value is, after checking it can be read at all."""
    if value is None:
        raise WireError("message has no value (a tombstone?): not an mdp message")
    content_type = BATCH_CONTENT_TYPE
    for name, header in headers or ():
        if name == SCHEMA_HEADER:
            try:
                version = int(header)
            except ValueError:
                raise WireError(f"header {SCHEMA_HEADER} is {header!r}, not a number") from None
            if version > SCHEMA_VERSION:
                raise UnsupportedSchemaVersion(version, SCHEMA_VERSION)
        elif name == "content-type":
            content_type = header
    if content_type not in (BATCH_CONTENT_TYPE, ENVELOPE_CONTENT_TYPE):
        raise WireError(f"content-type {content_type!r} is not an mdp message")
    return content_type


def from_message(value: bytes | None, headers: Sequence[tuple[str, bytes]] | None) -> list[Record]:
    """A message's records; :class:`WireError` (or :class:`UnsupportedSchemaVersion`)
    when it is not something this reader can decode."""
    if _content_type(value, headers) == ENVELOPE_CONTENT_TYPE:
        return [decode(value)]  # type: ignore[arg-type]  # not None: checked
    return decode_batch(value)  # type: ignore[arg-type]


def columns_from_message(
    value: bytes | None, headers: Sequence[tuple[str, bytes]] | None
) -> list[Record] | ColumnBatch:
    """A message of trade columns as a :class:`ColumnBatch`, anything else as its records;
    the same errors as :func:`from_message`."""
    if _content_type(value, headers) == ENVELOPE_CONTENT_TYPE:
        return [decode(value)]  # type: ignore[arg-type]
    batch = pb.EnvelopeBatch()
    _parse(batch, value, "EnvelopeBatch")  # type: ignore[arg-type]
    _check_version(batch.schema_version)
    if not batch.HasField("trades"):
        return decode_batch(value)  # type: ignore[arg-type]  # parsed twice: cheap beside decoding
    if batch.records:
        raise WireError("batch has both envelopes and trade columns: not an mdp batch")
    return column_batch(batch.trades, [_instrument_from_pb(s) for s in batch.sources])
