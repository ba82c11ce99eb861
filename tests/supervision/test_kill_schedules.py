"""For any kill schedule, the demo pipeline delivers every item exactly once, in order.

The in-process twin of the chaos test: hypothesis picks when and whom to kill, the clock is
a MockClock, so every failing example replays exactly.
"""

from __future__ import annotations

import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdp.supervision import (
    Backoff,
    ChannelSpec,
    Intensity,
    Strategy,
    Supervisor,
    SupervisorSpec,
    WorkerSpec,
)

ITEMS = 5_000
WORKERS = ("sink", "add-2", "add-1", "source")


def worker(name: str, component: str, ins: str, outs: str, **args: object) -> WorkerSpec:
    return WorkerSpec(
        name=name, component=component, inputs=list(ins), outputs=list(outs), args=dict(args)
    )


def pipeline(strategy: Strategy) -> SupervisorSpec:
    return SupervisorSpec(
        name="p",
        strategy=strategy,
        intensity=Intensity(max_restarts=10_000, period=1.0),
        backoff=Backoff(initial=0.001, max=0.01, jitter=0.5),
        channels=(
            ChannelSpec(name="a", capacity=64),
            ChannelSpec(name="b", capacity=30),
            ChannelSpec(name="c", capacity=70),
        ),
        children=(
            worker("sink", "demo.sink", "c", "", start=2, batch=7),
            worker("add-2", "demo.add", "b", "c", batch=16),
            worker("add-1", "demo.add", "a", "b", batch=10),
            worker("source", "demo.counter", "", "a", count=ITEMS, batch=25, interval=0.001),
        ),
    )


kills = st.lists(
    st.tuples(st.floats(min_value=0, max_value=0.01), st.sampled_from(WORKERS)), max_size=80
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedule=kills, strategy=st.sampled_from(list(Strategy)))
def test_any_kill_schedule_loses_and_duplicates_nothing(
    schedule: list[tuple[float, str]], strategy: Strategy
) -> None:
    # One Trio run per example, each on a fresh MockClock.
    trio.run(_run, schedule, strategy, clock=trio.testing.MockClock(autojump_threshold=0))


async def _run(schedule: list[tuple[float, str]], strategy: Strategy) -> None:
    sup = Supervisor(pipeline(strategy))
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        sink = sup.find("p/sink").memo  # type: ignore[union-attr]
        for delay, name in schedule:
            await trio.sleep(delay)
            node = sup.find(f"p/{name}")
            if node.instance is not None:  # type: ignore[union-attr]
                sup.kill(f"p/{name}")
        # 5,000 items take 0.2 s of virtual time undisturbed; a minute means lost items.
        with trio.move_on_after(60):
            while sink["received"] < ITEMS:  # noqa: ASYNC110 (virtual time: a MockClock)
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    assert sink == {"received": ITEMS, "duplicates": 0, "gaps": 0, "expected": ITEMS + 2}
