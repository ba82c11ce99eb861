"""Rows per second per sink, per core and on the wall clock.

    scripts/services start && eval "$(scripts/services env)"
    python bench/bench_sinks.py [--batch 50000] [--batches 7] [--per-message 1000]
        [--only postgres,clickhouse,parquet]

Each sink writes ``--batches`` batches of ``--batch`` new trades, starting from the Kafka
message values a collector produced (``EnvelopeBatch`` of ``--per-message`` trades each),
two ways, and the medians over the batches are printed as a Markdown table:

* ``wire → columns``: the consumer's ``deliver = "columns"`` decode
  (``columns_from_message``: one ``ColumnBatch`` per message) and ``sink.write_sync`` of
  those batches — what role ``sink`` does per batch;
* ``wire → records``: the ``deliver = "records"`` decode (``from_message``: a record per
  trade) and ``sink.write_sync`` of the records.

The decode is inside the timing: rows/s are from wire bytes to stored rows.

* ``cpu`` is this process's CPU time (``time.process_time``: every thread, so polars' and
  chdb's worker threads count; the embedded ClickHouse engine runs in this process).
* rows/s per core = rows / (this process's CPU + the server's), the median over the
  batches, with the range over them;
* for PostgreSQL the server's CPU counts too: the backend's utime+stime from
  ``/proc/<pid>/stat`` (its pid from ``pg_backend_pid()``) is added to ours, and rows/s per
  core is rows / (ours + server's). WAL writing and checkpoints by other server processes
  are not counted (the test server runs with fsync off; docs/services.md).

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

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mdp.bus._codec import HEADERS, columns_from_message, from_message
from mdp.model import Instrument, MarketType, Side, Trade
from mdp.sinks import ClickHouseSink, ParquetLake, PostgresSink
from mdp.wire import encode_batch

PG_DSN = os.environ.get("MDP_PG_DSN", "postgresql://mdp@127.0.0.1:15432/mdp")
TICKS = os.sysconf("SC_CLK_TCK")
INSTRUMENT = Instrument(
    exchange="binance", market=MarketType.SPOT, native_symbol="BTCUSDT", symbol="BTC/USDT"
)
# The warm-up's: rows of another instrument do not make the measured batches take the
# staging path (which a row of theirs stored later than them would).
WARMUP = Instrument(
    exchange="binance", market=MarketType.SPOT, native_symbol="ETHUSDT", symbol="ETH/USDT"
)


def trades(start: int, n: int, instrument: Instrument = INSTRUMENT) -> list[Trade]:
    t0 = 1_764_547_200_000_000_000  # trade i at t0 + i µs
    prices = [Decimal(6_800_000 + k).scaleb(-2) for k in range(-50, 50)]
    sizes = [Decimal(k * 37 + 1).scaleb(-5) for k in range(97)]
    return [
        Trade(
            instrument=instrument,
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


def messages(start: int, n: int, per_message: int) -> list[bytes]:
    """The trades ``start..start+n-1`` as the Kafka message values a collector produces."""
    batch = trades(start, n)
    return [encode_batch(batch[k : k + per_message]) for k in range(0, n, per_message)]


def from_wire(deliver: str, write: Callable[[Any], object]) -> Callable[[list[bytes]], object]:
    """Decode a batch's messages as ``bus.consumer`` does with ``deliver``, then write."""
    if deliver == "columns":

        def run(values: list[bytes]) -> object:
            items: list[Any] = []
            for value in values:
                decoded = columns_from_message(value, HEADERS)  # type: ignore[arg-type]
                items.extend(decoded) if isinstance(decoded, list) else items.append(decoded)
            return write(items)

        return run
    return lambda values: write([r for v in values for r in from_message(v, HEADERS)])  # type: ignore[arg-type]


def backend_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def measure(
    name: str,
    write: Callable[[Any], object],
    batches: Sequence[Any],
    rows: int,
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
    per_core = [rows / (c + s) for c, s in zip(cpus, servers, strict=True)]
    wall, cpu, server = (statistics.median(x) for x in (walls, cpus, servers))
    return {
        "sink": name,
        "wall rows/s": rows / wall,
        "rows/s per core": statistics.median(per_core),
        "range": f"{min(per_core) / 1e3:,.0f}–{max(per_core) / 1e3:,.0f}k",
        "client cpu µs/row": cpu / rows * 1e6,
        "server cpu µs/row": server / rows * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--batches", type=int, default=7)
    parser.add_argument("--per-message", type=int, default=1000)
    parser.add_argument("--only", default="postgres,clickhouse,parquet")
    args = parser.parse_args()
    only = set(args.only.split(","))
    n, k = args.batch, args.batches
    # Each run writes new trades (other ids and times), so none is a duplicate.
    inputs = {
        deliver: [messages(1 + (r * k + b) * n, n, args.per_message) for b in range(k)]
        for r, deliver in enumerate(("columns", "records"))
    }
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} cores")
    print(f"batches: {k} × {n} trades, {args.per_message} a message; medians\n")
    rows: list[dict[str, float | str]] = []

    def both(name: str, write: Callable[[Any], object], server: Any = None) -> None:
        for deliver, batches in inputs.items():
            rows.append(
                measure(f"{name}, wire → {deliver}", from_wire(deliver, write), batches, n, server)
            )

    if "postgres" in only:
        schema = f"bench_sinks_{os.getpid()}"
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
        try:
            dsn = f"{PG_DSN}?options=-csearch_path%3D{schema},public"
            pg = PostgresSink(dsn)
            pg.write_sync(trades(10**12, 10, WARMUP))  # connect and migrate outside the timing
            assert pg._conn is not None
            pid = pg._conn.info.backend_pid
            both("postgres", pg.write_sync, lambda: backend_cpu_s(pid))
            # One trade stored later than every batch: new rows now take the staging table
            # and the anti-join (the path of a backfill), for comparison with the direct COPY.
            pg.write_sync(trades(10**13, 1))
            later = [messages(1 + (2 * k + b) * n, n, args.per_message) for b in range(k)]
            rows.append(
                measure(
                    "postgres, wire → columns, staging + anti-join path",
                    from_wire("columns", pg.write_sync),
                    later,
                    n,
                    lambda: backend_cpu_s(pid),
                )
            )
            again = inputs["columns"]
            rows.append(
                measure(
                    "postgres, same batches again (redelivery: all duplicates)",
                    from_wire("columns", pg.write_sync),
                    again,
                    n,
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
            ch.write_sync(trades(10**12, 10, WARMUP))
            both("clickhouse (chdb, in process)", ch.write_sync)
            ch.close()

    if "parquet" in only:
        for fsync in (True, False):
            with tempfile.TemporaryDirectory(prefix="bench-lake-", dir="/var/tmp") as root:
                lake = ParquetLake(root, fsync=fsync, compact_every_s=1e9)
                both(f"parquet (fsync={fsync})", lake.write_sync)

    print("| sink, input | rows/s per core (range) | wall rows/s | client CPU µs/row", end="")
    print(" | server CPU µs/row |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['sink']} | {r['rows/s per core']:,.0f} ({r['range']}) | {r['wall rows/s']:,.0f} "
            f"| {r['client cpu µs/row']:.2f} | {r['server cpu µs/row']:.2f} |"
        )
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
