"""The one interface every store sits behind, and what the stores share.

A sink takes a batch of records of any kinds and either stores all of them it can — the
rows the store rejects come back with the reason, the rest are written — or raises
:class:`StoreUnavailable` having written nothing it cannot write again harmlessly (every
write is idempotent on the natural key, so a retried batch stores each row once).

The drivers are blocking (psycopg's async mode needs asyncio; chdb and polars are
in-process engines), so each sink does its store work in a worker thread, one connection
per sink, and the Trio loop never waits on I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import attrs
import polars as pl

from mdp.model import Record
from mdp.sinks._frames import Rejected

__all__ = ["Sink", "WriteResult", "write_bisecting"]


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

    async def write(self, records: Sequence[Record]) -> WriteResult:
        """Store ``records`` (idempotently); see the module docstring."""

    def close(self) -> None:
        """Release the connection; synchronous, so it is safe in a cancelled cleanup."""


T = TypeVar("T")


def write_bisecting(
    frame: pl.DataFrame,
    records: Sequence[Record],
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
