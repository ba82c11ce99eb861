"""What a consumer hands downstream, and what the dead-letter store gets instead."""

from __future__ import annotations

from typing import Any

import attrs

from mdp.model import Record
from mdp.wire._columns import ColumnBatch

__all__ = ["Fetched", "dead_letter_item"]


@attrs.frozen
class Fetched:
    """Records from one fetch, in order per topic, and the positions they take the
    consumer to: ``offsets[(topic, partition)]`` is the next offset to read. Hand the
    whole object back to ``ack`` once downstream has the records; only then are those
    positions committed. ``records`` can be empty when everything fetched went to the
    dead letters (the positions still move on). ``columns``: the batches of trades of a
    consumer that delivers columns (``deliver = "columns"``), one per message, in order
    per topic; that consumer's other kinds are still in ``records``."""

    records: list[Record]
    offsets: dict[tuple[str, int], int]
    messages: int = 0
    columns: list[ColumnBatch] = attrs.Factory(list)

    @property
    def items(self) -> list[Record | ColumnBatch]:
        """Everything for downstream: the records, then the column batches."""
        if not self.columns:
            return self.records  # type: ignore[return-value]  # list is invariant; no copy
        return [*self.records, *self.columns]


_VALUE_PREFIX = 512  # bytes of a bad message kept in its dead letter (hex)


def dead_letter_item(
    topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None, reason: str
) -> dict[str, Any]:
    """One dead-letter entry for a message that could not be decoded: enough to find it
    again in Kafka (topic, partition, offset) and to see what it was."""
    return {
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "key": key.decode("utf-8", "replace") if key is not None else None,
        "size": len(value) if value is not None else 0,
        "value_hex": value[:_VALUE_PREFIX].hex() if value is not None else None,
        "reason": reason,
    }
