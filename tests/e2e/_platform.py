"""What the end-to-end test drives and reads: the simulator and the two roles as real
processes, the servers (restarted through ``scripts/services``), the simulator's ground
truth, and each store's trades and books."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import attrs
import httpx
import psycopg
import trio
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

REPO = Path(__file__).resolve().parents[2]
KAFKA = os.environ.get("MDP_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
PG_DSN = os.environ.get("MDP_PG_DSN", "postgresql://mdp@127.0.0.1:15432/mdp")
SYMBOLS = ("BTCUSDT", "ETHUSDT")
# (the store's market, the simulator's market, its truth endpoint): spot collects @trade,
# USD-M futures @aggTrade (a trade id there is the aggregate id).
MARKETS = (("spot", "spot", "trades"), ("perpetual", "futures", "aggTrades"))
# OKX: instId → (the store's market, base units per contract). One record per trades
# message, its trade id the message's last fill id; a swap's sizes (trades and book
# levels) are stored in base units (contracts × ctVal).
OKX = {"BTC-USDT": ("spot", Decimal(1)), "BTC-USDT-SWAP": ("perpetual", Decimal("0.01"))}
NORMALIZED = {
    ("binance", "spot", "BTCUSDT"): "BTC/USDT",
    ("binance", "spot", "ETHUSDT"): "ETH/USDT",
    ("binance", "perpetual", "BTCUSDT"): "BTC/USDT:USDT",
    ("binance", "perpetual", "ETHUSDT"): "ETH/USDT:USDT",
    ("okx", "spot", "BTC-USDT"): "BTC/USDT",
    ("okx", "perpetual", "BTC-USDT-SWAP"): "BTC/USDT:USDT",
}
_NATIVE = {(e, m, n): s for (e, m, s), n in NORMALIZED.items()}
STORES = ("postgres", "clickhouse", "lake")
SINK_GROUPS = tuple(g for s in STORES for g in (f"sink-{s}-trades", f"sink-{s}"))

Key = tuple[str, str, str]  # (exchange, store market, native symbol)
Row = tuple[int, Decimal, Decimal]  # trade id, price, size
Book = tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]  # bids, asks


def free_port_pair() -> int:
    """A port P with P and P + 1 free (the simulator's spot and futures ports)."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port >= 65535:
            continue
        with socket.socket() as a, socket.socket() as b:
            try:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports on loopback")


@attrs.define
class Proc:
    """A child process with its output in a log file (shown when a test fails)."""

    name: str
    process: trio.Process
    log: Path
    _file: IO[bytes]

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(text[-lines:])

    async def aclose(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        with trio.CancelScope(shield=True):
            await self.process.wait()  # reaped, and trio lets go of its handle
        self._file.close()


async def start(name: str, args: list[str], *, cwd: Path, env: Mapping[str, str]) -> Proc:
    log = cwd / f"{name}.log"
    file = log.open("wb")
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "mdp", *args],
        cwd=cwd,
        env=dict(env),
        stdout=file,
        stderr=subprocess.STDOUT,
    )
    return Proc(name, process, log, file)


async def services(action: str, service: str) -> None:
    """``scripts/services stop|start kafka|postgres`` on the servers this run uses."""
    result = await trio.run_process(
        [str(REPO / "scripts" / "services"), action, service],
        cwd=REPO,
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"scripts/services {action} {service}: exit {result.returncode}\n"
            + result.stderr.decode(errors="replace")
        )


class SimClient:
    """A simulator's control endpoint and ground truth, over HTTP."""

    def __init__(self, port: int) -> None:
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)

    async def get(self, path: str, **params: Any) -> Any:
        reply = await self.client.get(path, params=params)
        reply.raise_for_status()
        return reply.json()

    async def post(self, path: str) -> None:
        (await self.client.post(path)).raise_for_status()

    async def aclose(self) -> None:
        await self.client.aclose()


class BinanceTruth(SimClient):
    async def trades(self, key: Key, from_id: int) -> list[Row]:
        _, market, symbol = key
        sim_market, what = next((s, w) for m, s, w in MARKETS if m == market)
        rows = await self.get(
            f"/_sim/truth/{what}", symbol=symbol, market=sim_market, fromId=from_id
        )
        return [(r["id"], Decimal(r["price"]), Decimal(r["qty"])) for r in rows]

    def tapes(self) -> list[Key]:
        return [("binance", m, s) for m, _, _ in MARKETS for s in SYMBOLS]

    async def books(self, key: Key, every: int) -> dict[int, Book]:
        """The book at every ``every``-th of the simulator's checkpoints, by update id."""
        _, market, symbol = key
        sim_market = next(s for m, s, _ in MARKETS if m == market)
        ids = await self.get("/_sim/truth/checkpoints", symbol=symbol, market=sim_market)
        out: dict[int, Book] = {}
        for uid in ids[::every]:
            body = await self.get(
                "/_sim/truth/book", symbol=symbol, market=sim_market, update_id=uid
            )
            out[uid] = _book(body, Decimal(1))
        return out


class OkxTruth(SimClient):
    async def trades(self, key: Key, from_id: int) -> list[Row]:
        inst = key[2]
        ct_val = OKX[inst][1]
        rows = await self.get("/_sim/truth/trades", instId=inst, fromId=from_id)
        return [(r["trade_id"], Decimal(r["price"]), Decimal(r["size"]) * ct_val) for r in rows]

    def tapes(self) -> list[Key]:
        return [("okx", market, inst) for inst, (market, _) in OKX.items()]

    async def books(self, key: Key, every: int) -> dict[int, Book]:
        """The book at every ``every``-th checkpoint (one per 100 ms push), by ``seqId``;
        a swap's sizes in base units, as stored."""
        inst = key[2]
        ids = await self.get("/_sim/truth/checkpoints", instId=inst)
        out: dict[int, Book] = {}
        for seq in ids[::every]:
            body = await self.get("/_sim/truth/book", instId=inst, seqId=seq)
            out[seq] = _book(body, OKX[inst][1])
        return out


async def book_marks(sim: Sim) -> dict[Key, int]:
    """The id of each book's latest checkpoint (the book as it is now)."""
    out: dict[Key, int] = {}
    for key in sim.tapes():
        _, market, symbol = key
        if isinstance(sim, OkxTruth):
            ids = await sim.get("/_sim/truth/checkpoints", instId=symbol)
        else:
            sim_market = next(s for m, s, _ in MARKETS if m == market)
            ids = await sim.get("/_sim/truth/checkpoints", symbol=symbol, market=sim_market)
        if ids:
            out[key] = max(ids)
    return out


def _book(body: dict[str, Any], unit: Decimal) -> Book:
    return (
        [(Decimal(p), Decimal(q) * unit) for p, q in body["bids"]],
        [(Decimal(p), Decimal(q) * unit) for p, q in body["asks"]],
    )


Sim = BinanceTruth | OkxTruth


async def next_ids(sim: Sim) -> dict[Key, int]:
    """The id (at least) each tape's next trade will have."""
    out: dict[Key, int] = {}
    for key in sim.tapes():
        rows = await sim.trades(key, 0)
        out[key] = rows[-1][0] + 1 if rows else 0
    return out


@attrs.define
class Truth:
    """Every trade the simulators made since ``first``, fetched as they go."""

    sims: list[Sim]
    first: dict[Key, int]
    rows: dict[Key, list[Row]] = attrs.Factory(lambda: defaultdict(list))

    def total(self) -> int:
        return sum(len(r) for r in self.rows.values())

    async def catch_up(self) -> None:
        for sim in self.sims:
            for key in sim.tapes():
                have = self.rows[key]
                start = have[-1][0] + 1 if have else self.first[key]
                have.extend(await sim.trades(key, start))


def summary(rows: Iterable[Row]) -> tuple[int, list[int], Decimal]:
    """What must be equal between a store and the truth: count, ids, Σ price × size."""
    listed = sorted(rows)
    return len(listed), [r[0] for r in listed], sum((p * s for _, p, s in listed), Decimal(0))


def by_key(rows: Iterable[tuple[str, str, str, int, Any, Any]]) -> dict[Key, list[Row]]:
    """(exchange, market, normalized symbol, id, price, size) → rows per key."""
    out: dict[Key, list[Row]] = defaultdict(list)
    for exchange, market, symbol, trade_id, price, size in rows:
        out[exchange, market, _NATIVE[exchange, market, symbol]].append(
            (int(trade_id), Decimal(str(price)), Decimal(str(size)))
        )
    return out


# -- the stores ------------------------------------------------------------------------------


def pg_trades(dsn: str) -> dict[Key, list[Row]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT exchange, market, symbol, trade_id, price::text, size::text FROM trades"
        ).fetchall()
    return by_key(rows)


def _pg_per_key(dsn: str, aggregate: str) -> dict[Key, int]:
    """``aggregate`` (an SQL expression over ``trades``) per exchange, market and symbol;
    empty while the table is not migrated yet or the server is restarting."""
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            rows = conn.execute(
                f"SELECT exchange, market, symbol, {aggregate} FROM trades GROUP BY 1, 2, 3"
            ).fetchall()
    except psycopg.Error:
        return {}
    return {(e, m, _NATIVE[e, m, s]): int(n) for e, m, s, n in rows if (e, m, s) in _NATIVE}


def pg_counts(dsn: str) -> dict[Key, int]:
    return _pg_per_key(dsn, "count(*)")


def pg_max_ids(dsn: str) -> dict[Key, int]:
    return _pg_per_key(dsn, "max(trade_id)")


def pg_book_ids(dsn: str) -> dict[Key, int]:
    """The last update id of each symbol's stored book deltas: a book past a mark is live
    again (the collector publishes no delta while its book waits for a resync)."""
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            rows = conn.execute(
                "SELECT exchange, market, symbol, max(final_update_id) FROM book_deltas"
                " GROUP BY 1, 2, 3"
            ).fetchall()
    except psycopg.Error:
        return {}
    return {(e, m, _NATIVE[e, m, s]): int(n) for e, m, s, n in rows if (e, m, s) in _NATIVE}


def lake_trades(root: Path) -> dict[Key, list[Row]]:
    from mdp.model import Kind
    from mdp.sinks import ParquetLake

    if not (root / "kind=trade").is_dir():
        return {}
    frame = ParquetLake(root, compact_every_s=1e9).read(Kind.TRADE)
    cols = frame.select("exchange", "market", "symbol", "trade_id", "price", "size")
    return by_key(cols.iter_rows())


CLICKHOUSE_DUMP = """
import json, sys
from mdp.sinks import connect_clickhouse
client = connect_clickhouse(sys.argv[1])
result = client.query(
    "SELECT exchange, market, symbol, trade_id, toString(price), toString(size)"
    " FROM trades FINAL"
)
json.dump([list(r) for r in result.result_rows], sys.stdout)
"""


async def clickhouse_trades(dsn: str) -> dict[Key, list[Row]]:
    """Read in a child process: chdb takes one data directory per process, and this one
    may have opened another already."""
    result = await trio.run_process(
        [sys.executable, "-c", CLICKHOUSE_DUMP, dsn],
        cwd=REPO,
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.decode(errors="replace"))
    return by_key(json.loads(result.stdout))


def exchange_topics() -> list[str]:
    """The topics of the exchange tags this test collects."""
    admin = AdminClient({"bootstrap.servers": KAFKA})
    names = admin.list_topics(timeout=15).topics
    return sorted(n for n in names if ".binance." in n or ".okx." in n)


def reset_kafka() -> None:
    """No topic of these exchange tags and no sink group from an earlier run."""
    admin = AdminClient({"bootstrap.servers": KAFKA})
    topics = exchange_topics()
    if topics:
        for future in admin.delete_topics(topics, operation_timeout=30).values():
            future.result()
    groups = {g.group_id for g in admin.list_consumer_groups().result(timeout=15).valid}
    stale = [g for g in SINK_GROUPS if g in groups]
    if stale:
        for future in admin.delete_consumer_groups(stale, request_timeout=15).values():
            future.result()


def group_lag(group: str, topics: list[str]) -> int:
    """Messages in ``topics`` not yet committed by ``group`` (-1: not known yet). A
    consumer that never subscribes does not join the group, so this disturbs nothing."""
    consumer = Consumer({"bootstrap.servers": KAFKA, "group.id": group})
    try:
        partitions = [TopicPartition(t, 0) for t in topics]
        committed = consumer.committed(partitions, timeout=10)
        lag = 0
        for tp in committed:
            _, high = consumer.get_watermark_offsets(TopicPartition(tp.topic, 0), timeout=10)
            if tp.offset < 0:
                if high > 0:
                    return -1
                continue
            lag += high - tp.offset
        return lag
    finally:
        consumer.close()
