"""The whole platform as it is deployed, under chaos: the Binance and OKX simulators →
``mdp run collector`` (both exchanges in one process) → Kafka → ``mdp run sink`` →
TimescaleDB + ClickHouse (chdb) + Parquet lake.

Both roles are the shipped role files (supervisors/collector.toml, supervisors/sink.toml),
run as processes and pointed at this test's simulators and stores through the environment.
While the simulators make at least 200,000 trades, a seeded killer kills random tasks in
both roles through their control sockets, the Kafka broker is restarted once and
PostgreSQL once. Then every store must hold exactly the simulators' trades — count, ids
and the exact decimal sum of price × size, per exchange, market and symbol — and the
stored book snapshots and deltas must rebuild each simulator's book at its checkpoints.

Set ``MDP_E2E_SEED`` to replay a run; ``MDP_E2E_TRADES`` to make more trades;
``MDP_E2E_RATE`` / ``MDP_E2E_OKX_RATE`` for the markets' speed (Binance / OKX).
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import pytest
import trio

from mdp.bus._config import load_bus_config
from mdp.bus._topics import configured_topics
from mdp.control import ControlClient
from tests.chaos import KillCount, kill_until
from tests.e2e._books import Chain, check_books, stored_events, stored_resyncs
from tests.e2e._platform import (
    KAFKA,
    MARKETS,
    NORMALIZED,
    OKX,
    PG_DSN,
    REPO,
    STORES,
    SYMBOLS,
    BinanceTruth,
    Key,
    OkxTruth,
    Proc,
    Sim,
    Truth,
    book_marks,
    clickhouse_trades,
    exchange_topics,
    free_port_pair,
    group_lag,
    lake_trades,
    next_ids,
    pg_book_ids,
    pg_counts,
    pg_max_ids,
    pg_trades,
    reset_kafka,
    services,
    start,
    summary,
)

TRADES = int(os.environ.get("MDP_E2E_TRADES", "200000"))
RATE = int(
    os.environ.get("MDP_E2E_RATE", "600")
)  # taker orders per second per symbol and market (≈ 0.3 trades each)
# OKX: taker orders (= trade messages) per second per instrument. A gap is filled from
# history-trades, 100 messages a request at the collector's 10 requests per 2 s per
# endpoint (OKX allows 20): at most 500 messages a second for the whole process, so an
# instrument much faster than half that could never close a gap while its market moves
# on (real BTC-USDT runs at tens a second). 150 leaves the backfill a margin, and keeps
# the sink — every record written to three stores, bbo-tbt one a change of the top — in
# what a shared 2-core machine gives it.
OKX_RATE = int(os.environ.get("MDP_E2E_OKX_RATE", "150"))
MIN_KILLS = 100
# Books: of the 200 checkpoints looked at per symbol (every third of the simulator's last
# 600, one per 100 ms depth window), those not in a resync span must rebuild exactly; a
# run whose chaos left fewer than this many to compare has shown nothing.
MIN_BOOKS_COMPARED = 20
SETTLE_EVERY_S = 3.0  # between looks at the stores (full scans: the machine is shared)
PULSE_WHEN_STILL_S = 9.0  # after the chaos: the market moves for a moment when nothing did
# Seconds between kills at most, per role (so half that on average): about 60 kills a
# minute in the collector, spread over its three supervisors, and 40 in the sink, whose
# six workers share one: inside the role files' restart intensity (60 a minute per
# supervisor), past which a supervisor rightly gives up.
KILL_PAUSE = {"collector": 2.0, "sink": 3.0}
COLLECTOR_VICTIMS = [
    "collector/binance/spot",
    "collector/binance/usdm-market",
    "collector/binance/usdm-public",
    "collector/okx/spot",
    "collector/okx/swap",
    *(
        f"collector/cleaning/{stage}"
        for stage in (
            "structure",
            "validity",
            "symbols",
            "precision",
            "receive_time",
            "anomalies",
        )
    ),
    "collector/producer",
]
SINK_VICTIMS = [
    f"sink/{name}"
    for store in STORES
    for name in (store, f"{store}-consumer", f"{store}-trades", f"{store}-trades-consumer")
]


async def _until(
    what: str,
    condition: Callable[[], bool],
    bound_s: float,
    procs: list[Proc],
    every_s: float = 0.5,
) -> None:
    """Wait for ``condition`` (looked at every ``every_s``: the looks at the stores are
    full scans, and the machine is the platform's too)."""
    with trio.move_on_after(bound_s) as scope:
        while not condition():
            for proc in procs:
                assert proc.process.returncode is None, f"{proc.name} exited\n{proc.tail()}"
            await trio.sleep(every_s)
    if scope.cancelled_caught:
        pytest.fail(f"{what}: not within {bound_s} s\n" + "\n".join(p.tail() for p in procs))


async def _role_up(proc: Proc, socket: Path, procs: list[Proc]) -> ControlClient:
    await _until(f"{proc.name}: control socket", socket.exists, 60, procs)
    ctl = await ControlClient.connect(socket)
    tree: dict[str, object] = {}

    async def all_running() -> bool:
        nonlocal tree
        tree = await ctl.request("tree")
        return all(n["state"] == "running" for n in tree["nodes"])  # type: ignore[index]

    with trio.fail_after(60):
        while True:  # another process's state: nothing to wait on but its answers
            if await all_running():
                return ctl
            await trio.sleep(0.2)


async def _print_twins(dsn: str, sims: list[Sim]) -> None:
    """When a test fails: trade ids stored twice, beside what the simulator says."""
    with psycopg.connect(dsn) as conn:
        twins = conn.execute(
            "SELECT exchange, market, native_symbol, trade_id, price::text, size::text,"
            " time_ns, receive_time_ns, quality_reasons FROM trades WHERE (exchange, market,"
            " native_symbol, trade_id) IN (SELECT exchange, market, native_symbol, trade_id"
            " FROM trades GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) ORDER BY 1, 2, 3, 4 LIMIT 6"
        ).fetchall()
    for exchange, market, symbol, trade_id, *row in twins:
        sim = sims[0] if exchange == "binance" else sims[1]
        truth = (await sim.trades((exchange, market, symbol), trade_id))[:1]
        print(f"twin {exchange} {market} {symbol} {trade_id}: stored {row}; simulator {truth}")


def _print_missing(dsn: str, truth: Truth) -> None:
    """When a test fails: the ranges of trade ids PostgreSQL lacks, and the Gap events it
    stored for those tapes."""
    stored = pg_trades(dsn)
    for key, rows in truth.rows.items():
        have = {r[0] for r in stored.get(key, [])}
        missing = sorted(r[0] for r in rows if r[0] not in have)
        if not missing:
            continue
        ranges: list[list[int]] = []
        for trade_id in missing:
            if ranges and trade_id == ranges[-1][1] + 1:
                ranges[-1][1] = trade_id
            else:
                ranges.append([trade_id, trade_id])
        print(
            f"missing {key}: {len(missing)} ids in {len(ranges)} ranges, first {ranges[:8]};"
            f" the truth starts at {truth.first.get(key)} and holds {len(rows)} up to"
            f" {rows[-1][0]}; stored around the first: "
            f"{sorted(i for i in have if abs(i - missing[0]) < 12)}"
        )
        with psycopg.connect(dsn) as conn:
            gaps = conn.execute(
                "SELECT stream, first_missing, last_missing, reason FROM gaps"
                " WHERE exchange = %s AND market = %s AND native_symbol = %s LIMIT 8",
                key,
            ).fetchall()
        print(f"gaps stored for {key}: {gaps}")


@pytest.mark.slow
async def test_collector_and_sink_roles_under_chaos_store_exactly_the_truth(
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("MDP_E2E_SEED", random.randrange(1 << 30)))
    print(f"end-to-end chaos seed {seed} (MDP_E2E_SEED={seed} replays the kill schedule)")
    rng = random.Random(seed)
    for service in ("kafka", "postgres"):  # running (a no-op when they are)
        await services("start", service)
    home = tmp_path / "home"
    home.mkdir()
    (home / "etc").symlink_to(REPO / "etc")
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    dsn = f"{PG_DSN}{'&' if '?' in PG_DSN else '?'}options=-csearch_path%3D{schema},public"
    chdb = f"chdb://{tmp_path / 'chdb'}"
    lake = tmp_path / "lake"
    await trio.to_thread.run_sync(reset_kafka)

    port = free_port_pair()
    okx_port = free_port_pair()
    env = {
        **os.environ,
        "MDP_KAFKA_BOOTSTRAP": KAFKA,
        "MDP_PG_DSN": dsn,
        "MDP_CLICKHOUSE_DSN": chdb,
        "MDP_LAKE_ROOT": str(lake),
        "MDP_EXCHANGES__BINANCE__SPOT__WS_URL": f"ws://127.0.0.1:{port}",
        "MDP_EXCHANGES__BINANCE__SPOT__REST_URL": f"http://127.0.0.1:{port}",
        "MDP_EXCHANGES__BINANCE__USDM__WS_URL": f"ws://127.0.0.1:{port + 1}",
        "MDP_EXCHANGES__BINANCE__USDM__REST_URL": f"http://127.0.0.1:{port + 1}",
        "MDP_EXCHANGES__OKX__WS_URL": f"ws://127.0.0.1:{okx_port}/ws/v5/public",
        "MDP_EXCHANGES__OKX__REST_URL": f"http://127.0.0.1:{okx_port}",
    }
    roles = ["run", "--roles-dir", str(REPO / "supervisors")]
    procs: list[Proc] = []
    controls: list[ControlClient] = []
    binance, okx = BinanceTruth(port), OkxTruth(okx_port)
    sims: list[Sim] = [binance, okx]
    try:
        procs.append(
            await start(
                "simulator",
                [
                    *("simulate", "--symbols", ",".join(SYMBOLS), "--rate", str(RATE)),
                    *("--port", str(port), "--seed", str(seed % 1000 + 1)),
                ],
                cwd=home,
                env=env,
            )
        )
        procs.append(
            await start(
                "okx-simulator",
                [
                    *("simulate", "--exchange", "okx", "--symbols", ",".join(OKX)),
                    *("--rate", str(OKX_RATE), "--port", str(okx_port), "--seed", str(seed % 997)),
                ],
                cwd=home,
                env=env,
            )
        )
        for sim in sims:  # the market stands still until the collector is up
            with trio.fail_after(30):
                while True:
                    try:
                        await sim.post("/_sim/pause")
                        break
                    except httpx.HTTPError:
                        await trio.sleep(0.2)
        first: dict[tuple[str, str, str], int] = {}
        for sim in sims:
            first.update(await next_ids(sim))
        truth = Truth(sims, first)
        procs.append(await start("collector", [*roles, "collector"], cwd=home, env=env))
        collector = await _role_up(procs[-1], home / "var/run/mdp/collector.sock", procs)
        controls.append(collector)
        made = {
            t
            for t in configured_topics(load_bus_config(REPO / "etc/mdp/bus.toml").topics, base=REPO)
            if ".binance." in t or ".okx." in t
        }
        await _until("topics made", lambda: made <= set(exchange_topics()), 60, procs)
        procs.append(await start("sink", [*roles, "sink"], cwd=home, env=env))
        sink = await _role_up(procs[-1], home / "var/run/mdp/sink.sock", procs)
        controls.append(sink)

        # -- chaos while the market makes TRADES trades ------------------------------------
        began = trio.current_time()

        def stage(what: str) -> None:
            print(f"[{trio.current_time() - began:5.0f} s] {what}", flush=True)

        for sim in sims:
            await sim.post("/_sim/resume")
        generating = True
        restarts: list[str] = []
        kills: list[KillCount] = []

        async def killer(
            ctl: ControlClient, victims: list[str], r: random.Random, pause: float
        ) -> None:
            count = KillCount()
            kills.append(count)
            await kill_until(ctl, victims, r, lambda: not generating, max_pause=pause, count=count)

        async def restart(service: str, after_s: float, down_s: float) -> None:
            await trio.sleep(after_s)
            try:
                await services("stop", service)
                await trio.sleep(down_s)
            finally:  # whatever happens, the server is running again afterwards
                with trio.CancelScope(shield=True):
                    await services("start", service)
            restarts.append(service)

        async with trio.open_nursery() as nursery:
            for ctl, victims, role in (
                (collector, COLLECTOR_VICTIMS, "collector"),
                (sink, SINK_VICTIMS, "sink"),
            ):
                r = random.Random(rng.random())
                nursery.start_soon(killer, ctl, victims, r, KILL_PAUSE[role])
            nursery.start_soon(restart, "kafka", 8.0, 3.0)
            nursery.start_soon(restart, "postgres", 30.0, 3.0)
            paused = False
            with trio.fail_after(600):
                while (
                    truth.total() < TRADES
                    or len(restarts) < 2
                    or sum(k.kills for k in kills) < MIN_KILLS
                ):
                    for proc in procs:
                        assert proc.process.returncode is None, proc.tail()
                    await trio.sleep(2.0)
                    await truth.catch_up()
                    if truth.total() >= TRADES and not paused:
                        # Enough trades: the market stands still while the chaos goes on
                        # (so the platform's backlog does not grow without end on a slow
                        # machine); the kills and restarts then hit it draining.
                        for sim in sims:
                            await sim.post("/_sim/pause")
                        paused = True
            generating = False  # the killers stop
        stage(f"chaos over: {truth.total()} trades made, {sum(k.kills for k in kills)} kills")
        # Every stream must deliver trades made after the last kill: a trade lost to a kill
        # shows as a gap only when a later one arrives. The market moves on in pulses and
        # stands still between them while the platform drains what the chaos left queued
        # (on a loaded machine the sink stores slower than the simulators make trades, so
        # a market that never stopped would never be caught up; only the later trades
        # matter here, not how many).
        # So must every book: one the chaos broke resyncs only once its market moves again,
        # and a book still waiting for that at the end would leave checkpoints unreached.
        await truth.catch_up()
        marks = {key: rows[-1][0] for key, rows in truth.rows.items()}
        books_at: dict[Key, int] = {}
        for sim in sims:
            books_at.update(await book_marks(sim))
        seen: tuple[dict[Key, int], dict[Key, int]] | None = None
        still = PULSE_WHEN_STILL_S  # the first look starts with a pulse
        try:
            with trio.fail_after(420):
                while True:
                    ids = (pg_max_ids(dsn), pg_book_ids(dsn))
                    if all(ids[0].get(key, -1) >= mark for key, mark in marks.items()) and all(
                        ids[1].get(key, -1) > mark for key, mark in books_at.items()
                    ):
                        break
                    for proc in procs:
                        assert proc.process.returncode is None, f"{proc.name} exited\n{proc.tail()}"
                    if seen is not None:
                        still = still + SETTLE_EVERY_S if ids == seen else 0.0
                    seen = ids
                    if still >= PULSE_WHEN_STILL_S:  # stored what there is: a few trades more
                        for sim in sims:
                            await sim.post("/_sim/resume")
                        await trio.sleep(1.0)
                        for sim in sims:
                            await sim.post("/_sim/pause")
                        still = 0.0
                    await trio.sleep(SETTLE_EVERY_S)
        except BaseException:
            print(f"marks {marks}\npostgres max ids {pg_max_ids(dsn)}")
            print(f"book marks {books_at}\npostgres book ids {pg_book_ids(dsn)}")
            print("\n".join(p.tail() for p in procs))
            await _print_twins(dsn, sims)
            raise
        for sim in sims:
            await sim.post("/_sim/pause")
        await trio.sleep(0.5)
        await truth.catch_up()
        total_kills = sum(k.kills for k in kills)
        stage("every tape's trades and every book's deltas after the chaos stored in PostgreSQL")
        print(f"trades {truth.total()}, kills {total_kills}, restarts {restarts}")
        per_tape = {f"{e} {m} {s}": len(rows) for (e, m, s), rows in truth.rows.items()}
        print(f"trades per tape {per_tape}")
        for name, sim in (("binance", binance), ("okx", okx)):
            stats = await sim.get("/_sim/stats")
            print(f"{name} simulator: {stats['counters']}, closed: {stats['close_reasons']}")
        assert total_kills >= MIN_KILLS

        # -- every store catches up --------------------------------------------------------
        trade_topics = [t for t in exchange_topics() if t.startswith("trade.")]
        book_topics = [
            t
            for t in exchange_topics()
            if t.startswith(("book_snapshot.", "book_delta.", "resync."))
        ]
        seen: dict[tuple[str, str, str], int] = {}
        still = 0.0

        def caught_up() -> bool:
            nonlocal seen, still
            counts = pg_counts(dsn)
            still = still + SETTLE_EVERY_S if counts == seen else 0.0
            seen = counts
            if counts != {key: len(rows) for key, rows in truth.rows.items()}:
                return False
            groups = ("sink-clickhouse-trades", "sink-lake-trades")
            if not all(group_lag(g, trade_topics) == 0 for g in groups):
                return False
            # The books are checked from PostgreSQL: its writer of the other kinds done too.
            return group_lag("sink-postgres", book_topics) == 0

        try:
            with trio.fail_after(420):
                while not caught_up():
                    for proc in procs:
                        assert proc.process.returncode is None, proc.tail()
                    if still >= 15.0:
                        # Nothing moves and something is missing: a trade lost just before the
                        # market stopped (a connection down at that moment) shows as a gap only
                        # when a later trade arrives. The market moves on for a moment.
                        for sim in sims:
                            await sim.post("/_sim/resume")
                        await trio.sleep(2.0)
                        for sim in sims:
                            await sim.post("/_sim/pause")
                        await trio.sleep(0.5)
                        await truth.catch_up()
                        still = 0.0
                    await trio.sleep(SETTLE_EVERY_S)
        except BaseException:
            lags = {f"sink-{s}-trades": group_lag(f"sink-{s}-trades", trade_topics) for s in STORES}
            want = {key: len(rows) for key, rows in truth.rows.items()}
            print(f"want {want}\npostgres {pg_counts(dsn)}\nlags {lags}")
            await _print_twins(dsn, sims)
            _print_missing(dsn, truth)
            for ctl in (collector, sink):
                for cmd in ("tree", "channels", "stats"):
                    print(cmd, await ctl.request(cmd))
            raise
        stage("every store caught up")
        for ctl in (collector, sink):
            await ctl.request("stop")
        for proc in procs[2:]:  # the roles (the simulators go on serving the truth)
            with trio.fail_after(60):
                await proc.process.wait()
            assert proc.process.returncode == 0, proc.tail()

        # -- exactly the truth, in every store ---------------------------------------------
        expected = {key: summary(rows) for key, rows in truth.rows.items()}
        stores = {
            "postgres": await trio.to_thread.run_sync(pg_trades, dsn),
            "clickhouse": await clickhouse_trades(chdb),
            "lake": await trio.to_thread.run_sync(lake_trades, lake),
        }
        for store, held in stores.items():
            for key, (count, ids, notional) in expected.items():
                got_count, got_ids, got_notional = summary(held.get(key, []))
                assert got_count == count, f"{store} {key}: {got_count} trades, want {count}"
                assert got_ids == ids, f"{store} {key}: ids differ"
                assert got_notional == notional, f"{store} {key}: Σ price×size differs"
            assert set(held) <= set(expected), f"{store}: trades of {set(held) - set(expected)}"
        print(f"every store holds exactly the {truth.total()} trades of the truth")

        # -- books rebuild the simulators' at their checkpoints ----------------------------
        books: list[tuple[Sim, Key, Chain]] = [
            (binance, ("binance", market, symbol), "futures" if market == "perpetual" else "spot")
            for market, _, _ in MARKETS
            for symbol in SYMBOLS
        ]
        books += [(okx, ("okx", market, inst), "okx") for inst, (market, _) in OKX.items()]
        wrong: list[str] = []
        for sim, key, chain in books:
            exchange, market, symbol = key
            book_truth = await sim.books(key, 3)
            stored = NORMALIZED[key]
            events = await trio.to_thread.run_sync(stored_events, dsn, market, stored, exchange)
            resyncs = await trio.to_thread.run_sync(stored_resyncs, dsn, market, stored, exchange)
            check = check_books(events, book_truth, chain=chain, resyncs=resyncs)
            print(
                f"books {exchange} {market} {symbol}: {check.compared} compared, "
                f"{check.not_covered - len(check.undeclared)} in the spans of {len(resyncs)}"
                f" stored resyncs, {len(check.undeclared)} in none, {check.between} passed over"
                " inside one delta"
            )
            if check.mismatches:
                wrong.append(f"{key}: differs at {check.mismatches[:5]}")
            if check.undeclared:
                wrong.append(f"{key}: not reached, in no resync: {check.undeclared[:5]}")
            if check.compared < MIN_BOOKS_COMPARED:
                wrong.append(f"{key}: only {check.compared} compared")
        assert not wrong, "\n".join(wrong)  # every book looked at first, then all it found

        dead = home / "var/lib/mdp/dead-letters"
        for role in ("collector", "sink"):
            path = dead / f"{role}.jsonl"
            lines = path.read_text().splitlines() if path.exists() else []
            trades_dead = [line[:300] for line in lines if "Trade(" in line]
            print(f"{role}: {len(lines)} dead letters")
            assert not trades_dead, f"{role}: trades dead-lettered: {trades_dead[:3]}"
    finally:
        for sim in sims:
            await sim.aclose()
        for ctl in controls:
            await ctl.aclose()
        for proc in procs:
            await proc.aclose()
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
