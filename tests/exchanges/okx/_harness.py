"""The OKX collector under a real supervisor against the OKX simulator on loopback, and
a consumer keeping what it published (as tests/exchanges/binance/_harness.py)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import trio

from mdp.exchanges.okx import GroupState, StreamGroup
from mdp.model import (
    BookDelta,
    BookSnapshot,
    Gap,
    Liquidation,
    Record,
    Resync,
    SourceStatus,
    Trade,
)
from mdp.simulator.okx import OkxAddress, OkxSimulator, OkxSimulatorConfig
from mdp.supervision import ChannelSpec, MemoryDeadLetters, Supervisor, SupervisorSpec, WorkerSpec

WAIT = 20.0
SPOT, SWAP = "BTC-USDT", "BTC-USDT-SWAP"
SYMBOLS = [SPOT, "ETH-USDT", SWAP]
CT_VAL = {SWAP: Decimal("0.01"), "ETH-USDT-SWAP": Decimal("0.1")}

Levels = tuple[tuple[Decimal, Decimal], ...]


def sim_config(**changes: Any) -> OkxSimulatorConfig:
    base: dict[str, Any] = {"symbols": SYMBOLS, "rate": 150, "seed": 7, "checkpoints": 4000}
    base.update(changes)
    return OkxSimulatorConfig(**base)


@attrs.define
class Book:
    seq: int = 0
    bids: dict[Decimal, Decimal] = attrs.Factory(dict)
    asks: dict[Decimal, Decimal] = attrs.Factory(dict)

    def levels(self) -> tuple[Levels, Levels]:
        return (
            tuple(sorted(self.bids.items(), reverse=True)),
            tuple(sorted(self.asks.items())),
        )


@attrs.define(repr=False)
class Collected:
    trades: dict[str, list[Trade]] = attrs.Factory(dict)
    books: dict[str, Book] = attrs.Factory(dict)
    book_at: dict[tuple[str, int], tuple[Levels, Levels]] = attrs.Factory(dict)
    gaps: list[Gap] = attrs.Factory(list)
    resyncs: list[Resync] = attrs.Factory(list)
    statuses: list[SourceStatus] = attrs.Factory(list)
    liquidations: list[Liquidation] = attrs.Factory(list)
    snapshots: int = 0
    deltas: int = 0
    records: list[Record] = attrs.Factory(list)
    crossed: int = 0
    changed: trio.Event = attrs.Factory(trio.Event)

    def take(self, batch: list[Record]) -> None:
        for r in batch:
            symbol = r.instrument.native_symbol
            if isinstance(r, Trade):
                self.trades.setdefault(symbol, []).append(r)
            elif isinstance(r, BookSnapshot):
                self.snapshots += 1
                self.books[symbol] = Book(r.last_update_id, dict(r.bids), dict(r.asks))
                self._sample(symbol)
            elif isinstance(r, BookDelta):
                self.deltas += 1
                book = self.books[symbol]
                for side, changes in ((book.bids, r.bids), (book.asks, r.asks)):
                    for price, qty in changes:
                        if qty:
                            side[price] = qty
                        else:
                            side.pop(price, None)
                book.seq = r.final_update_id
                if book.bids and book.asks and max(book.bids) >= min(book.asks):
                    self.crossed += 1
                self._sample(symbol)
            elif isinstance(r, Gap):
                self.gaps.append(r)
            elif isinstance(r, Resync):
                self.resyncs.append(r)
            elif isinstance(r, SourceStatus):
                self.statuses.append(r)
            elif isinstance(r, Liquidation):
                self.liquidations.append(r)
            else:
                self.records.append(r)
        self.changed.set()
        self.changed = trio.Event()

    def _sample(self, symbol: str) -> None:
        book = self.books[symbol]
        self.book_at[(symbol, book.seq)] = book.levels()


@attrs.define(repr=False)
class Harness:
    sim: OkxSimulator
    address: OkxAddress
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

    async def settle(self, symbols: list[str]) -> None:
        """Pause the market and wait until every trade it made has been collected."""
        self.sim.pause()
        await trio.sleep(0.05)
        for symbol in symbols:
            last = self.sim.trades(symbol)[-1].trade_id
            await self.wait_for(lambda s=symbol, n=last: self.max_id(s) >= n)  # type: ignore[misc]

    def assert_trades_equal_truth(self, symbol: str) -> int:
        got = self.collected.trades[symbol]
        ids = [t.trade_id for t in got]
        assert len(ids) == len(set(ids)), "a trade id was delivered twice"
        assert ids == sorted(ids), "trade ids were delivered out of order"
        ct = CT_VAL.get(symbol, Decimal(1))
        truth = [
            (t.trade_id, t.price, Decimal(t.size) * ct, t.time_ms, t.side)
            for t in self.sim.trades(symbol)
            if t.trade_id >= ids[0]
        ]
        mine = [
            (t.trade_id, str(t.price), t.size, (t.match_time_ns or 0) // 1_000_000, t.side.value)
            for t in got
        ]
        assert mine == truth
        return len(ids)

    def assert_books_match(self, symbol: str, at_least: int = 3) -> int:
        ct = CT_VAL.get(symbol, Decimal(1))
        compared = 0
        for (sym, seq), (bids, asks) in self.collected.book_at.items():
            if sym != symbol:
                continue
            truth = self.sim.book(symbol, seq)
            if truth is None:
                continue
            want = tuple(
                tuple((Decimal(p), Decimal(q) * ct) for p, q in side)
                for side in (truth.bids, truth.asks)
            )
            assert (bids, asks) == want, f"book differs at {seq}"
            compared += 1
        assert compared >= at_least, f"only {compared} checkpoints to compare"
        assert self.collected.crossed == 0
        return compared


def group_spec(name: str, address: OkxAddress, **args: Any) -> WorkerSpec:
    inst_type = "SWAP" if name == "swap" else "SPOT"
    base: dict[str, Any] = {
        "inst_type": inst_type,
        "ws_url": address.ws,
        "rest_url": address.rest,
        "symbols": [SWAP] if inst_type == "SWAP" else [SPOT, "ETH-USDT"],
        "channels": ["trades", "books", "bbo-tbt"],
        "first_frame_timeout_s": 1.0,
        "liveness_interval_s": 0.1,
        "backoff_initial_s": 0.02,
        "backoff_max_s": 0.2,
        "rest_per_2s": 40,
    }
    base.update(args)
    return WorkerSpec(name=name, component="okx.streams", outputs=["records"], args=base)


async def start(
    nursery: trio.Nursery, sim: OkxSimulator, *groups: Callable[[OkxAddress], WorkerSpec]
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
