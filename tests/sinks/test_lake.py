"""The Parquet lake under concurrency and redelivery: readers see only complete files, and
compaction neither loses nor duplicates a row, while writes and reads go on."""

from __future__ import annotations

import fcntl
import tempfile
import threading
from pathlib import Path

import polars as pl
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from mdp.model import Kind
from mdp.sinks import ParquetLake
from mdp.sinks._lake import _locked
from tests.sinks.conftest import trades

BATCH = 250


async def test_readers_see_whole_batches_and_no_copies_while_compaction_runs(
    tmp_path: Path,
) -> None:
    lake = ParquetLake(tmp_path / "lake", fsync=False, compact_every_s=3600)
    batches = 60
    done = threading.Event()
    seen: list[int] = []

    def write() -> None:
        try:
            for b in range(batches):
                lake.write_sync(trades(1 + b * BATCH, 1 + (b + 1) * BATCH))
                if b % 4 == 3:
                    for directory in lake.partitions(Kind.TRADE):
                        lake.compact(Kind.TRADE, directory, min_files=3)
        finally:
            done.set()

    def read() -> None:
        last = 0
        while not done.is_set():
            frame = lake.read(Kind.TRADE, dedup=False)  # the files as they are, no dedup
            if frame.height:
                ids = frame["trade_id"]
                # Whole batches only, no row twice, never fewer rows than a moment ago.
                assert frame.height % BATCH == 0, frame.height
                assert ids.n_unique() == frame.height
                assert int(ids.max()) == frame.height  # type: ignore[arg-type]
                assert frame.height >= last
                last = frame.height
            seen.append(frame.height)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.to_thread.run_sync, write)
        nursery.start_soon(trio.to_thread.run_sync, read)
    assert len(seen) > 5  # the reader really read while the writer wrote
    final = lake.read(Kind.TRADE, dedup=False)
    assert final["trade_id"].sort().to_list() == list(range(1, batches * BATCH + 1))
    leftovers = [p.name for p in (tmp_path / "lake").rglob("*.tmp")]
    assert leftovers == []


@settings(max_examples=25, deadline=None)
@given(
    chunks=st.lists(st.tuples(st.integers(1, 400), st.integers(1, 120)), min_size=1, max_size=12),
    compact_after=st.sets(st.integers(0, 11)),
    min_files=st.integers(2, 4),
)
def test_redelivered_batches_and_compaction_keep_each_trade_once(
    chunks: list[tuple[int, int]], compact_after: set[int], min_files: int
) -> None:
    """Any overlapping redeliveries, compacted at any points: the dedup read holds every id
    once; after a full compaction so do the files themselves."""
    with tempfile.TemporaryDirectory() as root:
        lake = ParquetLake(root, fsync=False, compact_every_s=3600)
        expected: set[int] = set()
        for i, (start, length) in enumerate(chunks):
            lake.write_sync(trades(start, start + length))
            expected |= set(range(start, start + length))
            if i in compact_after:
                for directory in lake.partitions(Kind.TRADE):
                    lake.compact(Kind.TRADE, directory, min_files=min_files)
            read = lake.read(Kind.TRADE)
            assert read["trade_id"].sort().to_list() == sorted(expected)
        lake.compact_all(min_files=2)
        raw = lake.read(Kind.TRADE, dedup=False)
        assert raw["trade_id"].sort().to_list() == sorted(expected)
        files = list(Path(root).rglob("*.parquet"))
        assert len(files) == len(lake.partitions(Kind.TRADE))
        # The exact decimals survive compaction.
        want = pl.Series([str(t.price) for t in trades(min(expected), max(expected) + 1)])
        assert set(raw["price"].cast(pl.String).cast(pl.Decimal(38, 18)).to_list()) <= set(
            want.cast(pl.Decimal(38, 18)).to_list()
        )


async def test_compaction_swaps_only_when_no_reader_is_listing(tmp_path: Path) -> None:
    """The mechanism behind the test above, made deterministic: a reader between listing and
    opening holds the partition's shared lock; the swap waits for it, so the reader gets
    either every old file or the merged one."""
    lake = ParquetLake(tmp_path / "lake", fsync=False, compact_every_s=3600)
    for b in range(3):
        lake.write_sync(trades(1 + b * BATCH, 1 + (b + 1) * BATCH))
    (directory,) = lake.partitions(Kind.TRADE)
    before = sorted(p.name for p in directory.glob("*.parquet"))
    assert len(before) == 3
    async with trio.open_nursery() as nursery:
        with _locked(directory, fcntl.LOCK_SH):  # a reader is listing
            nursery.start_soon(
                trio.to_thread.run_sync, lambda: lake.compact(Kind.TRADE, directory, min_files=2)
            )
            await trio.sleep(0.5)  # compaction has merged by now and waits to swap
            assert sorted(p.name for p in directory.glob("*.parquet")) == before
            assert [p.name for p in directory.glob(".compact-*.tmp")] != []
    after = [p.name for p in directory.glob("*.parquet")]
    assert len(after) == 1
    assert after[0].startswith("compact-")
    assert lake.read(Kind.TRADE, dedup=False).height == 3 * BATCH


def test_a_file_being_written_is_invisible_to_readers(tmp_path: Path) -> None:
    lake = ParquetLake(tmp_path / "lake", fsync=False)
    lake.write_sync(trades(1, 101))
    (directory,) = lake.partitions(Kind.TRADE)
    (directory / ".part-1-abc.parquet.tmp").write_bytes(b"PAR1 half a file")  # a writer mid-way
    assert lake.read(Kind.TRADE, dedup=False).height == 100
    assert lake.compact(Kind.TRADE, directory, min_files=1) == 0  # one complete file: nothing


def test_text_columns_are_dictionary_encoded_in_files_and_strings_when_read(
    tmp_path: Path,
) -> None:
    """The short repeated strings and the nearly-always-empty text columns are written as
    dictionaries (cheaper to write); readers get Strings, also from files written before,
    and compaction merges the two kinds of file."""
    import pyarrow.parquet as pq

    lake = ParquetLake(tmp_path, fsync=False, compact_every_s=3600)
    lake.write_sync(trades(0, 100))
    (directory,) = lake.partitions(Kind.TRADE)
    (new_file,) = directory.glob("*.parquet")
    schema = pq.read_schema(new_file)
    for name in ("exchange", "symbol", "side", "quality_reasons", "extra"):
        assert str(schema.field(name).type).startswith("dictionary<values=string"), name
    assert pq.read_table(new_file)["extra"].to_pylist() == [""] * 100
    # A file as an earlier version wrote it: plain String columns.
    old = pl.read_parquet(new_file).with_columns(
        pl.col(pl.Categorical).cast(pl.String), pl.col("trade_id") + 100
    )
    old.write_parquet(directory / "part-1-old.parquet")
    read = lake.read(Kind.TRADE)
    assert read.height == 200
    assert read.schema["side"] == pl.String
    assert read.schema["extra"] == pl.String
    assert set(read["exchange"].to_list()) == {"binance"}
    assert lake.compact(Kind.TRADE, directory, min_files=2) == 2
    assert lake.read(Kind.TRADE).sort("trade_id").equals(read.sort("trade_id"))
