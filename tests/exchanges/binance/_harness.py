"""A collector under a real supervisor against the simulator on loopback, and a consumer
that keeps what it published: trades per stream, rebuilt books, platform events."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import trio

from mdp.exchanges.binance import GroupState, StreamGroup
from mdp.model import BookDelta, BookSnapshot, Gap, Record, Resync, SourceStatus, Trade
from mdp.simulator import Market, Simulator, SimulatorAddress, SimulatorConfig
from mdp.supervision import (
    ChannelSpec,
    MemoryDeadLetters,
    Supervisor,
    SupervisorSpec,
    WorkerSpec,
)

WAIT = 20.0  # the bound on every wait for a condition


def sim_config(**changes: Any) -> SimulatorConfig:
    base: dict[str, Any] = {
        "symbols": ["BTCUSDT", "ETHUSDT"],
        "rate": 150,
        "seed": 7,
        "checkpoints": 4000,
    }
    base.update(changes)
    cfg = SimulatorConfig(**base)
    cfg.rest.window_s = 1.0  # a 429's Retry-After is the rest of the window: keep it short
    cfg.rest.ban_s = 1.0
    return cfg


@attrs.define
class Book:
    update_id: int = 0
    bids: dict[Decimal, Decimal] = attrs.Factory(dict)
    asks: dict[Decimal, Decimal] = attrs.Factory(dict)

    def levels(self) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
        bids = tuple((str(p), str(q)) for p, q in sorted(self.bids.items(), reverse=True))
        asks = tuple((str(p), str(q)) for p, q in sorted(self.asks.items()))
        return bids, asks


@attrs.define(repr=False)
class Collected:
    """What the consumer took off the collector's channel."""

    trades: dict[str, list[Trade]] = attrs.Factory(dict)  # native symbol → in arrival order
    books: dict[str, Book] = attrs.Factory(dict)
    # (symbol, update id) → levels, sampled every few updates for checkpoint comparisons
    book_at: dict[tuple[str, int], Any] = attrs.Factory(dict)
    gaps: list[Gap] = attrs.Factory(list)
    resyncs: list[Resync] = attrs.Factory(list)
    statuses: list[SourceStatus] = attrs.Factory(list)
    snapshots: int = 0
    records: list[Record] = attrs.Factory(list)
    crossed: int = 0
    changed: trio.Event = attrs.Factory(trio.Event)

    def take(self, batch: list[Record]) -> None:
        for r in batch:
            if isinstance(r, Trade):
                self.trades.setdefault(r.instrument.native_symbol, []).append(r)
            elif isinstance(r, BookSnapshot):
                self.snapshots += 1
                self.books[r.instrument.native_symbol] = Book(
                    r.last_update_id, dict(r.bids), dict(r.asks)
                )
                self._sample(r.instrument.native_symbol)
            elif isinstance(r, BookDelta):
                book = self.books[r.instrument.native_symbol]
                for side, changes in ((book.bids, r.bids), (book.asks, r.asks)):
                    for price, qty in changes:
                        if qty:
                            side[price] = qty
                        else:
                            side.pop(price, None)
                book.update_id = r.final_update_id
                if book.bids and book.asks and max(book.bids) >= min(book.asks):
                    self.crossed += 1
                self._sample(r.instrument.native_symbol)
            elif isinstance(r, Gap):
                self.gaps.append(r)
            elif isinstance(r, Resync):
                self.resyncs.append(r)
            elif isinstance(r, SourceStatus):
                self.statuses.append(r)
            else:
                self.records.append(r)
        self.changed.set()
        self.changed = trio.Event()

    def _sample(self, symbol: str) -> None:
        book = self.books[symbol]
        self.book_at[(symbol, book.update_id)] = book.levels()


@attrs.define(repr=False)
class Harness:
    sim: Simulator
    address: SimulatorAddress
    supervisor: Supervisor
    collected: Collected
    dead_letters: MemoryDeadLetters

    async def wait_for(self, condition: Callable[[], bool], bound_s: float = WAIT) -> None:
        with trio.fail_after(bound_s):
            while not condition():
                with trio.move_on_after(0.05):
                    await self.collected.changed.wait()

    def group(self, name: str = "spot") -> StreamGroup:
        node = next(n for n in self.supervisor.nodes if n.name == name)
        group: StreamGroup = node.memo["group"]
        return group

    def state(self, name: str = "spot") -> GroupState:
        return self.group(name).state

    def trade_ids(self, symbol: str) -> list[int]:
        return [t.trade_id for t in self.collected.trades.get(symbol, [])]

    def max_id(self, symbol: str) -> int:
        ids = self.trade_ids(symbol)
        return max(ids) if ids else -1

    def last_truth_id(self, symbol: str, market: Market = Market.SPOT, agg: bool = False) -> int:
        rows = self.sim.agg_trades(symbol, market) if agg else self.sim.trades(symbol, market)
        return rows[-1].id

    async def settle(
        self, symbols: list[str], market: Market = Market.SPOT, agg: bool = False
    ) -> None:
        """Pause the market and wait until every trade it made has been collected."""
        self.sim.pause()
        await trio.sleep(0.05)  # let the last tick's frames go out
        for symbol in symbols:
            last = self.last_truth_id(symbol, market, agg)
            await self.wait_for(lambda s=symbol, n=last: self.max_id(s) >= n)  # type: ignore[misc]

    def assert_trades_equal_truth(
        self, symbol: str, market: Market = Market.SPOT, agg: bool = False
    ) -> int:
        got = self.collected.trades[symbol]
        ids = [t.trade_id for t in got]
        assert len(ids) == len(set(ids)), "a trade id was delivered twice"
        first = ids[0]
        if agg:
            truth = [
                (a.id, a.price, a.qty, a.time_ms, a.buyer_is_maker)
                for a in self.sim.agg_trades(symbol, market, from_id=first)
            ]
        else:
            truth = [
                (t.id, t.price, t.qty, t.time_ms, t.buyer_is_maker)
                for t in self.sim.trades(symbol, market, from_id=first)
            ]
        mine = [
            (
                t.trade_id,
                str(t.price),
                str(t.size),
                (t.match_time_ns or 0) // 1_000_000,
                t.side.value == "sell",
            )
            for t in sorted(got, key=lambda t: t.trade_id)
        ]
        assert mine == truth
        assert ids == sorted(ids), "trade ids were delivered out of order"
        return len(ids)

    def assert_books_match(
        self, symbol: str, market: Market = Market.SPOT, at_least: int = 3
    ) -> int:
        compared = 0
        for (sym, uid), (bids, asks) in self.collected.book_at.items():
            if sym != symbol:
                continue
            truth = self.sim.book(symbol, uid, market)
            if truth is None:
                continue
            assert (bids, asks) == (truth.bids, truth.asks), f"book differs at {uid}"
            compared += 1
        assert compared >= at_least, f"only {compared} checkpoints to compare"
        assert self.collected.crossed == 0
        return compared


def group_spec(name: str, address: SimulatorAddress, **args: Any) -> WorkerSpec:
    futures = args.get("market") == "perpetual"
    base: dict[str, Any] = {
        "ws_url": address.futures_ws if futures else address.spot_ws,
        "rest_url": address.futures_rest if futures else address.spot_rest,
        "symbols": ["BTCUSDT", "ETHUSDT"],
        "streams": ["trade", "depth@100ms", "bookTicker"],
        "first_frame_timeout_s": 1.0,
        "liveness_interval_s": 0.1,
        "backoff_initial_s": 0.02,
        "backoff_max_s": 0.2,
    }
    base.update(args)
    return WorkerSpec(name=name, component="binance.streams", outputs=["records"], args=base)


async def start(
    nursery: trio.Nursery, sim: Simulator, *groups: Callable[[SimulatorAddress], WorkerSpec]
) -> Harness:
    address = await nursery.start(sim.serve)
    specs = [g(address) for g in groups] or [group_spec("spot", address)]
    spec = SupervisorSpec(
        name="collector",
        channels=[ChannelSpec(name="records", capacity=100_000)],
        children=specs,
    )
    dead = MemoryDeadLetters()
    sup = Supervisor(spec, dead_letters=dead)
    collected = Collected()

    async def consume() -> None:
        channel = sup.channels["records"]
        while True:
            collected.take(await channel.receive_batch(4096))

    nursery.start_soon(consume)
    await nursery.start(sup.run)
    return Harness(sim, address, sup, collected, dead)
