"""The Parquet lake: one directory per kind/exchange/market/symbol/date, files appended.

Layout (hive style; values percent-encoded, so ``BTC/USDT`` is ``BTC%2FUSDT``)::

    ROOT/kind=trade/exchange=binance/market=spot/symbol=BTC%2FUSDT/date=2026-12-01/
        part-<ns>-<id>.parquet      one per batch and partition
        compact-<ns>-<id>.parquet   many small files merged into one

Why a reader never sees half a file: every file is written under a dot-name ending in
``.tmp`` (which readers skip), flushed, and renamed into place — a rename is atomic.
Why compaction neither loses nor duplicates rows for a reader: the swap (rename the merged
file in, unlink the files it merged) happens under an exclusive ``flock`` of the partition's
``.lock``, and a reader lists and *opens* the files under a shared one; an open file can be
read after it is unlinked, so the reader holds either the old files or the merged one,
never both and never neither.

Duplicates: a redelivered batch is a second file with the same rows (the lake cannot upsert
cheaply). Compaction drops them on the natural key (keeping the newest version of a
candle), and :meth:`ParquetLake.read` drops those still in uncompacted files, so a reader
sees each row once either way (``dedup=False`` shows the files as they are).
"""

from __future__ import annotations

import datetime
import fcntl
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import polars as pl
import trio

from mdp.model import Kind
from mdp.sinks._decimals import cast_decimals
from mdp.sinks._errors import StoreUnavailable
from mdp.sinks._schema import TABLES, Table
from mdp.sinks._sink import FrameRows, Item, WriteResult, write_items

__all__ = ["ParquetLake"]

_PARTITION = ("exchange", "market", "symbol")
_DAY_NS = 86_400 * 10**9
_EPOCH = datetime.date(1970, 1, 1)


@contextmanager
def _locked(directory: Path, mode: int) -> Iterator[None]:
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # releases the lock


# Written dictionary-encoded (as Categorical): the short repeated strings, and the two
# text columns that are nearly always "" — polars writes a plain column of empty strings
# ~6x slower than one of short strings, and these two were a quarter of a trade file's write
# (docs/benchmarks.md, "Storage sinks"). The values in the file are the same strings; read
# back, they are Strings again (:func:`_from_file`).
_DICTIONARY = frozenset(
    {c.name for t in TABLES.values() for c in t.columns if c.type == "lc"}
    | {"quality_reasons", "extra"}
)


def _for_file(frame: pl.DataFrame) -> pl.DataFrame:
    cast = [
        pl.col(name).cast(pl.Categorical)
        for name, dtype in frame.schema.items()
        if name in _DICTIONARY and dtype == pl.String
    ]
    return frame.with_columns(cast) if cast else frame


def _from_file(frame: pl.DataFrame) -> pl.DataFrame:
    """A lake file's frame with its dictionary-encoded columns as Strings (files written
    before they were encoded so are Strings already)."""
    cast = [
        pl.col(name).cast(pl.String)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Categorical)
    ]
    return frame.with_columns(cast) if cast else frame


def _write_atomically(frame: pl.DataFrame, final: Path, *, fsync: bool, level: int = 1) -> None:
    """zstd level 1 for the batch files: faster than the default level 3 and, on market
    data, no bigger (docs/benchmarks.md); compaction rewrites at level 3."""
    temp = final.with_name(f".{final.name}.tmp")
    try:
        with temp.open("wb") as f:
            _for_file(frame).write_parquet(
                f, compression="zstd", compression_level=level, statistics=True
            )
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _partitions(frame: pl.DataFrame) -> list[tuple[tuple[Any, ...], pl.DataFrame]]:
    """The frame split by partition; a batch of one instrument and day (the usual case) is
    recognised by a vectorised compare, cheaper than ``partition_by``'s copy."""
    keys = [*_PARTITION, "_d"]
    if frame.height and all((frame[k] == frame[k][0]).all() for k in keys):
        return [(tuple(frame[k][0] for k in keys), frame)]
    parts = frame.partition_by(keys, as_dict=True, maintain_order=True)
    return list(parts.items())


def _dedup(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    if table.version is not None:
        frame = frame.sort(table.version, descending=True, maintain_order=True)
    frame = frame.unique(subset=list(table.natural_key), keep="first", maintain_order=True)
    return frame.sort("time_ns", maintain_order=True)


class ParquetLake:
    """Writes batches to a Parquet lake under ``root``; reads and compacts it too."""

    name = "parquet"

    def __init__(
        self,
        root: Path | str,
        *,
        fsync: bool = True,
        compact_min_files: int = 8,
        compact_every_s: float = 60.0,
    ) -> None:
        self.root = Path(root)
        self.fsync = fsync
        self.compact_min_files = compact_min_files
        self.compact_every_s = compact_every_s
        self._touched: set[tuple[Kind, Path]] = set()
        self._last_compaction = time.monotonic()

    async def open(self) -> None:
        await trio.to_thread.run_sync(lambda: self.root.mkdir(parents=True, exist_ok=True))

    def directory(self, kind: Kind, exchange: str, market: str, symbol: str, date: str) -> Path:
        parts = [("kind", kind.value), ("exchange", exchange), ("market", market)]
        parts += [("symbol", symbol), ("date", date)]
        return self.root.joinpath(*(f"{k}={quote(v, safe='')}" for k, v in parts))

    async def write(self, items: Sequence[Item]) -> WriteResult:
        return await trio.to_thread.run_sync(self.write_sync, items)

    async def write_frame(self, kind: Kind, frame: pl.DataFrame) -> WriteResult:
        return await trio.to_thread.run_sync(self.write_frame_sync, kind, frame)

    def write_sync(self, items: Sequence[Item]) -> WriteResult:
        """:meth:`write` on the calling thread; compacts what it wrote when one is due."""
        result = write_items(items, self.write_frame_sync)
        if time.monotonic() - self._last_compaction >= self.compact_every_s:
            try:
                self.compact_touched()
            except OSError as exc:
                raise StoreUnavailable(f"Parquet lake at {self.root}: {exc}") from exc
        return result

    def write_frame_sync(
        self, kind: Kind, frame: pl.DataFrame, items: Sequence[Any] | None = None
    ) -> WriteResult:
        """:meth:`write_frame` on the calling thread; ``items[i]`` is what row i is."""
        rows: Sequence[Any] = FrameRows(frame) if items is None else items
        frame, unfit = cast_decimals(TABLES[kind], frame)
        rejected = [(rows[i], reason) for i, reason in sorted(unfit.items())]
        try:
            written = self._write_frame(kind, frame)
        except OSError as exc:
            raise StoreUnavailable(f"Parquet lake at {self.root}: {exc}") from exc
        return WriteResult(written, tuple(rejected))

    def _write_frame(self, kind: Kind, frame: pl.DataFrame) -> int:
        frame = frame.with_columns(
            pl.col("time_ns").cast(pl.Datetime("ns", "UTC")).alias("time"),
            (pl.col("time_ns") // _DAY_NS).alias("_d"),  # the UTC date, as a day number
        )
        stamp = time.time_ns()
        for (exchange, market, symbol, day), part in _partitions(frame):
            date = (_EPOCH + datetime.timedelta(days=int(day))).isoformat()
            directory = self.directory(kind, str(exchange), str(market), str(symbol), date)
            directory.mkdir(parents=True, exist_ok=True)
            name = f"part-{stamp}-{uuid.uuid4().hex[:12]}.parquet"
            _write_atomically(part.drop("_d"), directory / name, fsync=self.fsync)
            self._touched.add((kind, directory))
        return frame.height

    # -- compaction ------------------------------------------------------------------------

    def compact_touched(self) -> int:
        """Compact the partitions written since the last compaction; files merged."""
        touched, self._touched = self._touched, set()
        self._last_compaction = time.monotonic()
        return sum(self.compact(kind, directory) for kind, directory in sorted(touched))

    def compact_all(self, *, min_files: int | None = None) -> int:
        """Compact every partition of the lake (``mdp``'s maintenance and tests)."""
        merged = 0
        for kind in TABLES:
            for directory in sorted(self.root.glob(f"kind={kind.value}/*/*/*/*")):
                merged += self.compact(kind, directory, min_files=min_files)
        return merged

    def compact(self, kind: Kind, directory: Path, *, min_files: int | None = None) -> int:
        """Merge the partition's files into one, without duplicates; returns how many files
        were merged (0 when there were fewer than ``min_files`` or another compaction of
        the partition is running)."""
        needed = self.compact_min_files if min_files is None else min_files
        fd = os.open(directory / ".compact.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0
            files = sorted(directory.glob("*.parquet"))
            if len(files) < max(needed, 2):
                return 0
            table = TABLES[kind]
            merged = _dedup(table, pl.concat([_from_file(pl.read_parquet(f)) for f in files]))
            final = directory / f"compact-{time.time_ns()}-{uuid.uuid4().hex[:12]}.parquet"
            temp = final.with_name(f".{final.name}.tmp")
            _write_atomically(merged, temp, fsync=self.fsync, level=3)  # complete, still hidden
            with _locked(directory, fcntl.LOCK_EX):
                os.replace(temp, final)
                for f in files:
                    f.unlink()
            return len(files)
        finally:
            os.close(fd)

    # -- reading ---------------------------------------------------------------------------

    def partitions(
        self,
        kind: Kind,
        *,
        exchange: str | None = None,
        market: str | None = None,
        symbol: str | None = None,
    ) -> list[Path]:
        values = [exchange, market, symbol]
        pattern = "/".join(
            f"{n}={quote(v, safe='') if v is not None else '*'}"
            for n, v in zip(_PARTITION, values, strict=True)
        )
        return sorted(self.root.glob(f"kind={kind.value}/{pattern}/date=*"))

    def read(
        self,
        kind: Kind,
        *,
        exchange: str | None = None,
        market: str | None = None,
        symbol: str | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
        dedup: bool = True,
    ) -> pl.DataFrame:
        """Rows of ``kind`` with ``start_ns <= time_ns < end_ns``, each once (``dedup``)."""
        opened: list[IO[bytes]] = []
        try:
            for directory in self.partitions(kind, exchange=exchange, market=market, symbol=symbol):
                with _locked(directory, fcntl.LOCK_SH):
                    opened += [f.open("rb") for f in sorted(directory.glob("*.parquet"))]
            frames = [_from_file(pl.read_parquet(f)) for f in opened]
        finally:
            for f in opened:
                f.close()
        table = TABLES[kind]
        if not frames:
            return pl.DataFrame()
        frame = pl.concat(frames)
        if start_ns is not None:
            frame = frame.filter(pl.col("time_ns") >= start_ns)
        if end_ns is not None:
            frame = frame.filter(pl.col("time_ns") < end_ns)
        return _dedup(table, frame) if dedup else frame

    def close(self) -> None:
        """Nothing to release: every file is closed when written."""
