"""The one interface every store sits behind, and what the stores share.

A sink takes a batch of records of any kinds — or of column batches, a Kafka message's
trades as its wire columns (``_column_frames.py``), or both mixed — and either stores all
of them it can — the
rows the store rejects come back with the reason, the rest are written — or raises
:class:`StoreUnavailable` having written nothing it cannot write again harmlessly (every
write is idempotent on the natural key, so a retried batch stores each row once).

The drivers are blocking (psycopg's async mode needs asyncio; chdb and polars are
in-process engines), so each sink does its store work in a worker thread, one connection
per sink, and the Trio loop never waits on I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, overload

import attrs
import polars as pl

from mdp.model import Kind, Record
from mdp.sinks._column_frames import trade_frame
from mdp.sinks._frames import Rejected, build_frame, group_by_kind
from mdp.sinks._schema import TABLES
from mdp.wire._columns import ColumnBatch

__all__ = ["FrameRows", "Item", "Sink", "WriteResult", "write_bisecting", "write_items"]

Item = Record | ColumnBatch
"""What a sink is fed: a record, or a column batch (one channel item, many rows)."""


@attrs.frozen
class WriteResult:
    """``written``: rows the store accepted (a duplicate of a stored row counts: the store
    keeps one copy); ``rejected``: the records it would not take, each with the reason."""

    written: int
    rejected: tuple[Rejected, ...] = ()


class Sink(Protocol):
    """A batch writer for one store."""

    name: str

    async def open(self) -> None:
        """Connect and bring the schema up to date (migrations); raises
        :class:`StoreUnavailable` when the store cannot be reached."""

    async def write(self, items: Sequence[Item]) -> WriteResult:
        """Store ``items`` (idempotently); see the module docstring."""

    async def write_frame(self, kind: Kind, frame: pl.DataFrame) -> WriteResult:
        """Store a frame of one kind, in the columns ``build_frame`` makes (decimals as
        strings, times as integer ns): the way in for a producer that has columns already
        and no records (a column-decoding consumer, a backfill, a benchmark)."""

    def close(self) -> None:
        """Release the connection; synchronous, so it is safe in a cancelled cleanup."""


class FrameRows(Sequence[dict[str, Any]]):
    """A frame's rows as dicts, made only when asked for: what a rejection of a frame row
    refers to (only the rejected ones are ever built)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def __len__(self) -> int:
        return self.frame.height

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> FrameRows: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | FrameRows:
        if isinstance(index, slice):
            return FrameRows(self.frame[index])
        if not -self.frame.height <= index < self.frame.height:
            raise IndexError(index)  # what ends iteration over a Sequence
        return self.frame.row(index, named=True)


WriteFrame = Callable[[Kind, pl.DataFrame, Sequence[Any]], WriteResult]


def write_items(items: Sequence[Item], write_frame: WriteFrame) -> WriteResult:
    """Group the records by kind and build each kind's frame, build one frame of the
    column batches' rows, write each; the results added up. A rejected record comes back
    as itself, a rejected row of a column batch as the row (a dict)."""
    records: Sequence[Record] = items  # type: ignore[assignment]  # usually all records
    batches: list[ColumnBatch] = []
    if any(type(item) is ColumnBatch for item in items):
        records = [item for item in items if type(item) is not ColumnBatch]  # type: ignore[misc]
        batches = [item for item in items if isinstance(item, ColumnBatch)]
    written = 0
    rejected: list[Rejected] = []
    for kind, group in group_by_kind(records).items():
        frame, kept, bad = build_frame(TABLES[kind], group)
        result = write_frame(kind, frame, kept)
        written += result.written
        rejected += bad
        rejected += result.rejected
    if batches:
        frame, bad_rows = trade_frame(batches)
        if bad_rows:
            reasons = dict(reversed(bad_rows))  # the first reason of a row
            rows = FrameRows(frame)
            rejected += [(rows[i], reason) for i, reason in sorted(reasons.items())]
            keep = pl.Series([True] * frame.height).scatter(list(reasons), False)
            frame = frame.filter(keep)
        result = write_frame(batches[0].kind, frame, FrameRows(frame))
        written += result.written
        rejected += result.rejected
    return WriteResult(written, tuple(rejected))


def write_bisecting(
    frame: pl.DataFrame,
    records: Sequence[Any],
    write: Callable[[pl.DataFrame], None],
    rejection: Callable[[BaseException], str | None],
) -> list[Rejected]:
    """Write ``frame`` (row i is ``records[i]``); when the store rejects it, halve and try
    again until the rows it rejects are alone, so their neighbours are still written.

    ``rejection`` says whether an error is the data's fault (its reason) or not (``None``:
    re-raised, e.g. the store went away). Only a batch with a bad row pays for the halving:
    about 2·log2(n) extra writes per bad row.
    """
    try:
        write(frame)
        return []
    except Exception as exc:
        reason = rejection(exc)
        if reason is None:
            raise
        if len(records) == 1:
            return [(records[0], reason)]
    middle = len(records) // 2
    return write_bisecting(frame[:middle], records[:middle], write, rejection) + write_bisecting(
        frame[middle:], records[middle:], write, rejection
    )
