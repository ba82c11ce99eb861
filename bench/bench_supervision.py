"""Supervision runtime: channel throughput and restart latency.

    python bench/bench_supervision.py

Prints a Markdown table. Channel throughput is items per second from one producer task to
one consumer task through a supervisor-owned channel (capacity 1024 items), one item per
call and in batches of 100, both through the bare channel and through a worker's inbox
(which tracks in-flight items for redelivery). Restart latency is the time from a kill to
the child reporting started again, with backoff set to 0 so only the supervisor's own
work is measured. Every figure is the median of several runs; the machines are shared.
"""

from __future__ import annotations

import argparse
import statistics
import time

import trio

from mdp.supervision import (
    Backoff,
    Channel,
    ChannelSpec,
    Context,
    Inbox,
    Intensity,
    MemoryDeadLetters,
    Supervisor,
    SupervisorSpec,
    WorkerSpec,
    component,
)

CAPACITY = 1024


def _trio_run(items: int, batch: int) -> float:
    """The same with Trio's own memory channel (a batch is one list), for scale."""

    async def main() -> float:
        send, receive = trio.open_memory_channel[object](CAPACITY // batch)
        payload = list(range(batch))

        async def produce() -> None:
            async with send:
                for _ in range(items // batch):
                    await send.send(payload if batch > 1 else 0)

        async def consume() -> None:
            async with receive:
                async for _ in receive:
                    pass

        start = time.perf_counter()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(consume)
            nursery.start_soon(produce)
        return time.perf_counter() - start

    return trio.run(main)


def _channel_run(items: int, batch: int, via_inbox: bool | None) -> float:
    """Seconds to move ``items`` items (``via_inbox=None``: Trio's memory channel)."""
    if via_inbox is None:
        return _trio_run(items, batch)

    async def main() -> float:
        channel = Channel("bench", CAPACITY)
        inbox = Inbox(channel, path="bench/w", max_attempts=3, dead_letters=MemoryDeadLetters())
        payload = list(range(batch))

        async def produce() -> None:
            if batch == 1:
                for n in range(items):
                    await channel.send(n)
            else:
                for _ in range(items // batch):
                    await channel.send_batch(payload)

        async def consume() -> None:
            got = 0
            if batch == 1:
                receive = inbox.receive if via_inbox else channel.receive
                for _ in range(items):
                    await receive()
            else:
                receive_batch = inbox.receive_batch if via_inbox else channel.receive_batch
                while got < items:
                    got += len(await receive_batch(batch))

        start = time.perf_counter()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(consume)
            nursery.start_soon(produce)
        return time.perf_counter() - start

    return trio.run(main)


_started_at: list[int] = []
_restarted: list[trio.Event] = [trio.Event()]


@component("bench.idle")
async def _idle(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    task_status.started()
    _started_at.append(time.perf_counter_ns())
    _restarted[0].set()
    await trio.sleep_forever()


def restart_latencies(kills: int, siblings: int) -> list[float]:
    """Microseconds from kill to started again, one sample per kill."""
    spec = SupervisorSpec(
        name="bench",
        backoff=Backoff(initial=0.0),
        intensity=Intensity(max_restarts=kills * 2, period=3600.0),
        channels=(ChannelSpec(name="in"),),
        children=tuple(
            WorkerSpec(name=f"w{i}", component="bench.idle", inputs=["in"]) for i in range(siblings)
        ),
    )

    async def main() -> list[float]:
        sup = Supervisor(spec)
        samples: list[float] = []
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            target = f"bench/w{siblings // 2}"
            for _ in range(kills):
                _started_at.clear()
                restarted = _restarted[0] = trio.Event()
                t0 = time.perf_counter_ns()
                sup.kill(target)
                await restarted.wait()
                samples.append((_started_at[0] - t0) / 1000)
            nursery.cancel_scope.cancel()
        return samples

    return trio.run(main)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--kills", type=int, default=2000, help="kills per latency run")
    parser.add_argument("--runs", type=int, default=7, help="latency runs (median of each)")
    parser.add_argument("--only", choices=["throughput", "latency"], help="run one half")
    parser.add_argument(
        "--each", action="store_true", help="also print every latency run's p50/p99/p99.9"
    )
    args = parser.parse_args()
    if args.only != "latency":
        _throughput(args)
    if args.only != "throughput":
        _latency(args)


def _throughput(args: argparse.Namespace) -> None:
    one = args.items // 10  # one by one is much slower; fewer items, same run time
    variants = [
        ("channel, one by one", one, 1, False),
        ("channel, batches of 100", args.items, 100, False),
        ("inbox, one by one", one, 1, True),
        ("inbox, batches of 100", args.items, 100, True),
        ("for scale: trio memory channel, one by one", one, 1, None),
        ("for scale: trio memory channel, lists of 100", args.items, 100, None),
    ]
    # Interleaved, so that a noisy moment on a shared machine hits every variant alike.
    rates: dict[str, list[float]] = {name: [] for name, *_ in variants}
    for _ in range(args.repeat):
        for name, items, batch, via_inbox in variants:
            rates[name].append(items / _channel_run(items, batch, via_inbox))
    rows = [(name, statistics.median(rates[name])) for name, *_ in variants]
    print("| channel throughput | items/s (median) |")
    print("|---|---:|")
    for name, rate in rows:
        print(f"| {name} | {rate / 1e6:.2f} M |")
    print()


def _latency(args: argparse.Namespace) -> None:
    print("| restart latency, kill → started (backoff 0) | p50 | p99 |")
    print("|---|---:|---:|")
    for siblings in (1, 10):
        runs = [restart_latencies(args.kills, siblings) for _ in range(args.runs)]
        p50 = statistics.median(percentile(r, 0.50) for r in runs)
        p99 = statistics.median(percentile(r, 0.99) for r in runs)
        label = "1 child" if siblings == 1 else f"{siblings} children"
        print(f"| one_for_one, {label} | {p50:.0f} µs | {p99:.0f} µs |")
        if args.each:
            for r in runs:
                q = [f"{percentile(r, x):.0f}" for x in (0.5, 0.99, 0.999)]
                print(f"  run: p50 {q[0]} µs, p99 {q[1]} µs, p99.9 {q[2]} µs")


if __name__ == "__main__":
    main()
