"""Records per second through all six cleaning stages, in batches, on one core.

    python bench/bench_cleaning.py

Input: exchange-shaped trades for 3 instruments (consecutive ids, prices on tick in a
random walk, sizes on lot), the way a collector hands them over, in batches of 500.
The figure counts records in, per second of CPU time of the process (so: per core) for
the whole chain.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mdp.cleaning import Pipeline, RulesBook
from mdp.instruments import InstrumentRegistry
from mdp.model import Instrument, MarketType, Side, Trade, decimal_from_wire

BATCH = 500
BATCHES = 200


def instruments() -> list[Instrument]:
    return [
        Instrument(
            exchange="binance",
            market=MarketType.SPOT,
            native_symbol=f"{b}USDT",
            symbol=f"{b}/USDT",
            tick=Decimal("0.01"),
            lot=Decimal("0.00001"),
        )
        for b in ("BTC", "ETH", "SOL")
    ]


def trades(insts: list[Instrument], n: int, seed: int = 3) -> list[list[Trade]]:
    rng = random.Random(seed)
    t0 = time.time_ns() - 10_000_000_000
    price = dict.fromkeys(range(len(insts)), 6_800_000)
    next_id = dict.fromkeys(range(len(insts)), 1)
    out: list[Trade] = []
    for i in range(n):
        k = i % len(insts)
        price[k] += rng.randint(-2, 2)
        exchange_time = t0 + i * 10_000
        out.append(
            Trade(
                instrument=insts[k],
                receive_time_ns=exchange_time + 400_000,
                exchange_time_ns=exchange_time,
                match_time_ns=exchange_time - 1_000,
                trade_id=next_id[k],
                # as the collector parses them: through the shared wire decimal cache
                price=decimal_from_wire(f"{price[k] / 100:.2f}"),
                size=decimal_from_wire(f"{rng.randint(1, 50_000) / 100_000:.5f}"),
                side=Side.BUY if rng.random() < 0.5 else Side.SELL,
            )
        )
        next_id[k] += 1
    return [out[i : i + BATCH] for i in range(0, n, BATCH)]


def run_once(batches: list[list[Trade]], insts: list[Instrument]) -> float:
    """Records per CPU second of this process: per core, and not skewed by whatever else
    the shared machine runs (wall time is, heavily)."""
    pipeline = Pipeline(InstrumentRegistry(insts), RulesBook())
    start = time.process_time()
    for batch in batches:
        pipeline.process(batch)
    elapsed = time.process_time() - start
    return sum(len(b) for b in batches) / elapsed


def main() -> None:
    insts = instruments()
    batches = trades(insts, BATCH * BATCHES)
    rates = [run_once(batches, insts) for _ in range(7)]
    print(f"{len(batches) * BATCH} trades in batches of {BATCH}, 7 runs")
    print(
        f"median {statistics.median(rates) / 1000:.0f}k records/s "
        f"(min {min(rates) / 1000:.0f}k, max {max(rates) / 1000:.0f}k)"
    )
    print()
    print("| stage | median µs per record |")
    print("|---|---:|")
    samples: dict[str, list[float]] = {}
    for _ in range(5):  # fresh stages each time: state must not carry over between runs
        records: list[list[Trade]] = batches
        for stage in Pipeline(InstrumentRegistry(insts), RulesBook()).stages:
            start = time.process_time()
            records = [stage.process(b)[0] for b in records]  # type: ignore[misc]
            elapsed = time.process_time() - start
            samples.setdefault(stage.name, []).append(elapsed / (BATCH * BATCHES))
    for name, values in samples.items():
        print(f"| {name} | {statistics.median(values) * 1e6:.2f} |")


if __name__ == "__main__":
    main()
