"""The whole platform as it is deployed, under chaos: simulator → ``mdp run collector`` →
Kafka → ``mdp run sink`` → TimescaleDB + ClickHouse (chdb) + Parquet lake.

Both roles are the shipped role files (supervisors/collector.toml, supervisors/sink.toml),
run as processes and pointed at this test's simulator and stores through the environment.
While the simulator makes at least 200,000 trades, a seeded killer kills random tasks in
both roles through their control sockets, the Kafka broker is restarted once and
PostgreSQL once. Then every store must hold exactly the simulator's trades — count, ids
and the exact decimal sum of price × size, per market and symbol — and the stored book
snapshots and deltas must rebuild the simulator's book at its checkpoints.

Set ``MDP_E2E_SEED`` to replay a run; ``MDP_E2E_TRADES`` to make more trades.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest
import trio

from mdp.bus._config import load_bus_config
from mdp.bus._topics import configured_topics
from mdp.control import ControlClient
from tests.chaos import KillCount, kill_until
from tests.e2e._books import check_books, stored_events, stored_resyncs
from tests.e2e._platform import (
    KAFKA,
    MARKETS,
    NORMALIZED,
    PG_DSN,
    REPO,
    STORES,
    SYMBOLS,
    BinanceTruth,
    Proc,
    Truth,
    clickhouse_trades,
    exchange_topics,
    free_port_pair,
    group_lag,
    lake_trades,
    next_ids,
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
MIN_KILLS = 100
# Books: of the 200 checkpoints looked at per symbol (every third of the simulator's last
# 600, one per 100 ms depth window), those not in a resync span must rebuild exactly; a
# run whose chaos left fewer than this many to compare has shown nothing.
MIN_BOOKS_COMPARED = 20
SETTLE_EVERY_S = 3.0  # between looks at the stores (full scans: the machine is shared)
# Seconds between kills at most, per role (so half that on average): about 60 kills a
# minute in the collector, spread over its three supervisors, and 40 in the sink, whose
# six workers share one: inside the role files' restart intensity (60 a minute per
# supervisor), past which a supervisor rightly gives up.
KILL_PAUSE = {"collector": 2.0, "sink": 3.0}
COLLECTOR_VICTIMS = [
    "collector/binance/spot",
    "collector/binance/usdm-market",
    "collector/binance/usdm-public",
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


async def _print_twins(dsn: str, sims: list[BinanceTruth]) -> None:
    """When a test fails: trade ids stored twice, beside what the simulator says."""
    with psycopg.connect(dsn) as conn:
        twins = conn.execute(
            "SELECT exchange, market, native_symbol, trade_id, price::text, size::text,"
            " time_ns, receive_time_ns, quality_reasons FROM trades WHERE (exchange, market,"
            " native_symbol, trade_id) IN (SELECT exchange, market, native_symbol, trade_id"
            " FROM trades GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) ORDER BY 1, 2, 3, 4 LIMIT 6"
        ).fetchall()
    for exchange, market, symbol, trade_id, *row in twins:
        truth = (await sims[0].trades((exchange, market, symbol), trade_id))[:1]
        print(f"twin {exchange} {market} {symbol} {trade_id}: stored {row}; simulator {truth}")


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
    }
    roles = ["run", "--roles-dir", str(REPO / "supervisors")]
    procs: list[Proc] = []
    controls: list[ControlClient] = []
    sims = [BinanceTruth(port)]
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
        for sim in sims:
            await sim.post("/_sim/resume")
        # The market goes on until every stream has delivered trades made after the last
        # kill: a trade lost to a kill shows as a gap only when a later one arrives (as on
        # the exchange, where the market does not stop either).
        await truth.catch_up()
        marks = {key: rows[-1][0] for key, rows in truth.rows.items()}
        try:
            await _until(
                "trades after the chaos stored",
                lambda: all(pg_max_ids(dsn).get(key, -1) >= mark for key, mark in marks.items()),
                420,
                procs,
                every_s=3.0,
            )
        except BaseException:
            print(f"marks {marks}\npostgres max ids {pg_max_ids(dsn)}")
            await _print_twins(dsn, sims)
            raise
        for sim in sims:
            await sim.post("/_sim/pause")
        await trio.sleep(0.5)
        await truth.catch_up()
        total_kills = sum(k.kills for k in kills)
        print(f"trades {truth.total()}, kills {total_kills}, restarts {restarts}")
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
            for ctl in (collector, sink):
                for cmd in ("tree", "channels", "stats"):
                    print(cmd, await ctl.request(cmd))
            raise
        for ctl in (collector, sink):
            await ctl.request("stop")
        for proc in procs[1:]:
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

        # -- books rebuild the simulator's at its checkpoints ------------------------------
        for market, sim_market, _ in MARKETS:
            for symbol in SYMBOLS:
                ids = await sim.get("/_sim/truth/checkpoints", symbol=symbol, market=sim_market)
                book_truth = {}
                for uid in ids[::3]:
                    body = await sim.get(
                        "/_sim/truth/book", symbol=symbol, market=sim_market, update_id=uid
                    )
                    book_truth[uid] = (
                        [(Decimal(p), Decimal(q)) for p, q in body["bids"]],
                        [(Decimal(p), Decimal(q)) for p, q in body["asks"]],
                    )
                stored = NORMALIZED["binance", market, symbol]
                events = await trio.to_thread.run_sync(stored_events, dsn, market, stored)
                resyncs = await trio.to_thread.run_sync(stored_resyncs, dsn, market, stored)
                check = check_books(
                    events, book_truth, futures=market == "perpetual", resyncs=resyncs
                )
                print(
                    f"books {market} {symbol}: {check.compared} compared, "
                    f"{check.not_covered} in the spans of {len(resyncs)} stored resyncs"
                )
                assert not check.mismatches, f"{market} {symbol}: differs at {check.mismatches[:5]}"
                assert not check.undeclared, f"{market} {symbol}: lost at {check.undeclared[:5]}"
                assert check.compared >= MIN_BOOKS_COMPARED, (market, symbol, check)

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
