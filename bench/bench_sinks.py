"""Rows per second per sink, per core and on the wall clock.

    scripts/services start && eval "$(scripts/services env)"
    python bench/bench_sinks.py [--batch 50000] [--batches 7] [--only postgres,clickhouse,parquet]

Each sink writes ``--batches`` batches of ``--batch`` new trades (records, as the consumer
hands them over) and the medians over the batches are printed as a Markdown table:

* ``cpu`` is this process's CPU time (``time.process_time``: every thread, so polars' and
  chdb's worker threads count; the embedded ClickHouse engine runs in this process).
* for PostgreSQL the server's CPU counts too: the backend's utime+stime from
  ``/proc/<pid>/stat`` (its pid from ``pg_backend_pid()``) is added to ours, and rows/s per
  core is rows / (ours + server's). WAL writing and checkpoints by other server processes
  are not counted (the test server runs with fsync off; docs/services.md).
* ``frame`` is the part spent turning records into columns (shared by every sink).

PostgreSQL writes into a schema of its own (dropped afterwards); ClickHouse and the lake
into temporary directories. The machine is shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mdp.model import Instrument, Kind, MarketType, Side, Trade
from mdp.sinks import TABLES, ClickHouseSink, ParquetLake, PostgresSink
from mdp.sinks._frames import build_frame

PG_DSN = os.environ.get("MDP_PG_DSN", "postgresql://mdp@127.0.0.1:15432/mdp")
TICKS = os.sysconf("SC_CLK_TCK")
INSTRUMENT = Instrument(
    exchange="binance", market=MarketType.SPOT, native_symbol="BTCUSDT", symbol="BTC/USDT"
)


def trades(start: int, n: int) -> list[Trade]:
    t0 = 1_764_547_200_000_000_000
    prices = [Decimal(6_800_000 + k).scaleb(-2) for k in range(-50, 50)]
    sizes = [Decimal(k * 37 + 1).scaleb(-5) for k in range(97)]
    return [
        Trade(
            instrument=INSTRUMENT,
            receive_time_ns=t0 + i * 1_000 + 350,
            exchange_time_ns=t0 + i * 1_000,
            match_time_ns=t0 + i * 1_000 - 7,
            sequence=i,
            trade_id=i,
            price=prices[i % 100],
            size=sizes[i % 97],
            side=Side.BUY if i % 3 else Side.SELL,
        )
        for i in range(start, start + n)
    ]


def trade_frame(start: int, n: int) -> pl.DataFrame:
    """The same trades as :func:`trades`, built as columns (what a column-decoding consumer
    would hand over): the frame ``build_frame`` makes, without any record object."""
    t0 = 1_764_547_200_000_000_000
    i = pl.int_range(start, start + n, eager=True, dtype=pl.Int64)
    prices = pl.Series([str(Decimal(6_800_000 + k).scaleb(-2)) for k in range(-50, 50)])
    sizes = pl.Series([str(Decimal(k * 37 + 1).scaleb(-5)) for k in range(97)])
    const = {"exchange": "binance", "market": "spot", "symbol": "BTC/USDT"}
    return pl.DataFrame(
        {
            **{k: pl.repeat(v, n, eager=True) for k, v in const.items()},
            "native_symbol": pl.repeat("BTCUSDT", n, eager=True),
            "time_ns": t0 + i * 1_000 - 7,
            "receive_time_ns": t0 + i * 1_000 + 350,
            "exchange_time_ns": t0 + i * 1_000,
            "match_time_ns": t0 + i * 1_000 - 7,
            "sequence": i,
            "quality_level": pl.repeat(0, n, eager=True, dtype=pl.Int64),
            "quality_reasons": pl.repeat("", n, eager=True),
            "extra": pl.repeat("", n, eager=True),
            "trade_id": i,
            "price": prices.gather(i % 100),
            "size": sizes.gather(i % 97),
            "side": pl.Series(["sell", "buy", "buy"]).gather(i % 3),
        }
    )


def backend_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def measure(
    name: str,
    write: Callable[[Any], object],
    batches: Sequence[Any],
    server_cpu: Callable[[], float] | None = None,
) -> dict[str, float | str]:
    walls, cpus, servers = [], [], []
    for batch in batches:
        s0 = server_cpu() if server_cpu else 0.0
        c0, w0 = time.process_time(), time.perf_counter()
        write(batch)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        servers.append((server_cpu() - s0) if server_cpu else 0.0)
    n = len(batches[0])  # a frame's len is its height
    wall, cpu, server = (statistics.median(x) for x in (walls, cpus, servers))
    return {
        "sink": name,
        "wall rows/s": n / wall,
        "rows/s per core": n / (cpu + server),
        "client cpu µs/row": cpu / n * 1e6,
        "server cpu µs/row": server / n * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--batches", type=int, default=7)
    parser.add_argument("--only", default="postgres,clickhouse,parquet")
    args = parser.parse_args()
    only = set(args.only.split(","))
    batches = [trades(1 + b * args.batch, args.batch) for b in range(args.batches)]
    offset = 10**9  # the frame runs write other ids: new rows, not duplicates
    frames = [trade_frame(offset + 1 + b * args.batch, args.batch) for b in range(args.batches)]
    assert frames[0].columns == [c.name for c in TABLES[Kind.TRADE].columns]
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} cores")
    print(f"batches: {args.batches} × {args.batch} trades, medians\n")
    rows: list[dict[str, float | str]] = []

    frame_samples = []
    for batch in batches:
        c0 = time.process_time()
        build_frame(TABLES[batch[0].kind], batch)
        frame_samples.append(time.process_time() - c0)
    frame = statistics.median(frame_samples)
    rows.append(
        {
            "sink": "(records → frame only)",
            "wall rows/s": float("nan"),
            "rows/s per core": args.batch / frame,
            "client cpu µs/row": frame / args.batch * 1e6,
            "server cpu µs/row": 0.0,
        }
    )

    if "postgres" in only:
        schema = f"bench_sinks_{os.getpid()}"
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
        try:
            dsn = f"{PG_DSN}?options=-csearch_path%3D{schema},public"
            pg = PostgresSink(dsn)
            pg.write_sync(trades(10**12, 10))  # connect and migrate outside the timing
            assert pg._conn is not None
            pid = pg._conn.info.backend_pid
            rows.append(measure("postgres", pg.write_sync, batches, lambda: backend_cpu_s(pid)))
            rows.append(
                measure(
                    "postgres, from columns",
                    lambda f: pg.write_frame_sync(Kind.TRADE, f),
                    frames,
                    lambda: backend_cpu_s(pid),
                )
            )
            rows.append(
                measure(
                    "postgres, same batches again (redelivery: all duplicates)",
                    pg.write_sync,
                    batches,
                    lambda: backend_cpu_s(pid),
                )
            )
            pg.close()
        finally:
            with psycopg.connect(PG_DSN, autocommit=True) as admin:
                admin.execute(f"DROP SCHEMA {schema} CASCADE")

    if "clickhouse" in only:
        with tempfile.TemporaryDirectory(prefix="bench-chdb-") as root:
            ch = ClickHouseSink(f"chdb://{root}")
            ch.write_sync(trades(10**12, 10))
            rows.append(measure("clickhouse (chdb, in process)", ch.write_sync, batches))
            rows.append(
                measure(
                    "clickhouse, from columns",
                    lambda f: ch.write_frame_sync(Kind.TRADE, f),
                    frames,
                )
            )
            ch.close()

    if "parquet" in only:
        for fsync in (True, False):
            with tempfile.TemporaryDirectory(prefix="bench-lake-", dir="/var/tmp") as root:
                lake = ParquetLake(root, fsync=fsync, compact_every_s=1e9)
                rows.append(measure(f"parquet (fsync={fsync})", lake.write_sync, batches))
                rows.append(
                    measure(
                        f"parquet (fsync={fsync}), from columns",
                        lambda f, lake=lake: lake.write_frame_sync(Kind.TRADE, f),
                        frames,
                    )
                )

    print("| sink | rows/s per core | wall rows/s | client CPU µs/row | server CPU µs/row |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['sink']} | {r['rows/s per core']:,.0f} | {r['wall rows/s']:,.0f} "
            f"| {r['client cpu µs/row']:.2f} | {r['server cpu µs/row']:.2f} |"
        )
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
