"""Strategies, restart types, intensity, escalation, ordering and backoff, on a MockClock."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing

from mdp._exceptions import ConfigError, Escalation, NodeNotFound, StartFailed, SupervisionError
from mdp.supervision import (
    Backoff,
    Intensity,
    NodeState,
    RestartType,
    Strategy,
    Supervisor,
    SupervisorSpec,
)
from tests.supervision.conftest import Log, scripted

NO_BACKOFF = Backoff(initial=0.0)
LENIENT = Intensity(max_restarts=100, period=1.0)


def tree(*children: Any, strategy: Strategy = Strategy.ONE_FOR_ONE, **kw: Any) -> SupervisorSpec:
    kw.setdefault("backoff", NO_BACKOFF)
    kw.setdefault("intensity", LENIENT)
    return SupervisorSpec(name="root", strategy=strategy, children=children, **kw)


@asynccontextmanager
async def running(spec: SupervisorSpec, **kw: Any) -> AsyncIterator[Supervisor]:
    sup = Supervisor(spec, **kw)
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        yield sup
        nursery.cancel_scope.cancel()


def instances(sup: Supervisor) -> dict[str, int]:
    return {n.name: n.starts for n in sup.nodes}


# -- ordering ------------------------------------------------------------------------------


async def test_children_start_in_order_each_after_reporting_started(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    spec = tree(*(scripted(log, n, start_delay=1.0) for n in "abc"))
    async with running(spec) as sup:
        assert trio.current_time() == pytest.approx(3.0)  # run() reported started after all
        assert log.kinds()[:6] == [
            ("a", "start"),
            ("a", "started"),
            ("b", "start"),
            ("b", "started"),
            ("c", "start"),
            ("c", "started"),
        ]
        assert log.times("b", "start") == [pytest.approx(1.0)]
        assert log.times("c", "start") == [pytest.approx(2.0)]
        assert all(n.state is NodeState.RUNNING for n in sup.nodes)


async def test_shutdown_is_in_reverse_order(autojump_clock: trio.testing.MockClock) -> None:
    log = Log()
    spec = tree(*(scripted(log, n, stop_delay=0.5) for n in "abc"))
    async with running(spec):
        pass
    assert log.names("stop") == ["c", "b", "a"]
    # Each waited for the one before it: c took 0.5 s, then b, then a.
    assert log.times("b", "stop")[0] - log.times("c", "stop")[0] == pytest.approx(0.5)


async def test_shutdown_time_per_child_is_bounded(autojump_clock: trio.testing.MockClock) -> None:
    log = Log()
    # "b" takes 100 s to stop; its shutdown_timeout is 2 s, so "a" is stopped after 2 s.
    spec = tree(scripted(log, "a"), scripted(log, "b", stop_delay=100, shutdown_timeout=2.0))
    start = 0.0
    async with running(spec) as sup:
        start = trio.current_time()
    assert log.times("a", "stop")[0] - start == pytest.approx(2.0)
    assert sup.nodes[1].last_error is not None
    assert "did not stop within 2s" in sup.nodes[1].last_error


async def test_failed_start_stops_started_children_in_reverse_and_fails_run(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    spec = tree(
        scripted(log, "a"), scripted(log, "b"), scripted(log, "c", fail_start=lambda _: True)
    )
    sup = Supervisor(spec)
    with pytest.raises(StartFailed, match=r"root/c failed \(ValueError: c cannot start\)"):
        await sup.run()
    assert log.names("stop") == ["b", "a"]
    assert sup.nodes[2].state is NodeState.FAILED


async def test_returning_before_started_is_a_failed_start() -> None:
    async def quits(ctx: Any, *, task_status: trio.TaskStatus[None]) -> None:
        return

    from tests.supervision.conftest import worker

    sup = Supervisor(tree(worker("q", quits)))
    with pytest.raises(StartFailed, match="returned before reporting started"):
        await sup.run()


# -- strategies ----------------------------------------------------------------------------


def crash_once(at: float) -> Any:
    return lambda instance: at if instance == 1 else None


async def test_one_for_one_restarts_only_the_failed_child(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    spec = tree(
        scripted(log, "a"), scripted(log, "b", crash_after=crash_once(1.0)), scripted(log, "c")
    )
    async with running(spec) as sup:
        await trio.sleep(5)
        assert instances(sup) == {"a": 1, "b": 2, "c": 1}
        assert sup.nodes[1].restarts == 1
        assert sup.nodes[1].last_error == "ValueError: b crashed"
        assert all(n.state is NodeState.RUNNING for n in sup.nodes)


async def test_one_for_all_stops_all_in_reverse_then_starts_all_in_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    spec = tree(
        scripted(log, "a", stop_delay=0.5),
        scripted(log, "b", crash_after=crash_once(1.0)),
        scripted(log, "c", stop_delay=0.5),
        strategy=Strategy.ONE_FOR_ALL,
    )
    async with running(spec) as sup:
        await trio.sleep(5)
        assert instances(sup) == {"a": 2, "b": 2, "c": 2}
        after_crash = log.kinds()[log.kinds().index(("b", "crash")) :]
        assert after_crash == [
            ("b", "crash"),
            ("b", "stop"),
            ("c", "stop"),
            ("a", "stop"),
            ("a", "start"),
            ("a", "started"),
            ("b", "start"),
            ("b", "started"),
            ("c", "start"),
            ("c", "started"),
        ]
        # The new instances waited for the old ones to be fully gone (c and a took 0.5 s each).
        assert log.times("a", "start")[1] == pytest.approx(2.0)


async def test_rest_for_one_restarts_the_failed_child_and_those_after_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    spec = tree(
        scripted(log, "a"),
        scripted(log, "b", crash_after=crash_once(1.0)),
        scripted(log, "c"),
        scripted(log, "d"),
        strategy=Strategy.REST_FOR_ONE,
    )
    async with running(spec) as sup:
        await trio.sleep(5)
        assert instances(sup) == {"a": 1, "b": 2, "c": 2, "d": 2}
        after_crash = log.kinds()[log.kinds().index(("b", "crash")) :]
        assert [k for k in after_crash if k[1] in ("stop", "start")] == [
            ("b", "stop"),
            ("d", "stop"),
            ("c", "stop"),
            ("b", "start"),
            ("c", "start"),
            ("d", "start"),
        ]


async def test_dynamic_children_are_added_removed_and_restarted_alone(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    async with running(tree(scripted(log, "base"), strategy=Strategy.DYNAMIC)) as sup:
        btc = await sup.add_child(scripted(log, "btc-usdt", crash_after=crash_once(1.0)))
        await sup.add_child(scripted(log, "eth-usdt"))
        assert btc.state is NodeState.RUNNING
        assert [n.path for n in sup.nodes] == ["root/base", "root/btc-usdt", "root/eth-usdt"]
        await trio.sleep(3)
        assert instances(sup) == {"base": 1, "btc-usdt": 2, "eth-usdt": 1}
        await sup.remove_child("eth-usdt")
        assert [n.name for n in sup.nodes] == ["base", "btc-usdt"]
        assert log.names("stop") == ["btc-usdt", "eth-usdt"]
        with pytest.raises(ConfigError, match="already has a child 'base'"):
            await sup.add_child(scripted(log, "base"))
        with pytest.raises(StartFailed):
            await sup.add_child(scripted(log, "bad", fail_start=lambda _: True))
        assert [n.name for n in sup.nodes] == ["base", "btc-usdt"]
        # A temporary dynamic child is forgotten once it ends.
        await sup.add_child(
            scripted(log, "once", exit_after=lambda _: 1.0, restart=RestartType.TEMPORARY)
        )
        await trio.sleep(2)
        assert [n.name for n in sup.nodes] == ["base", "btc-usdt"]


async def test_only_dynamic_supervisors_take_children(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    async with running(tree(scripted(log, "a"))) as sup:
        with pytest.raises(SupervisionError, match="not dynamic"):
            await sup.add_child(scripted(log, "b"))
        with pytest.raises(SupervisionError, match="not dynamic"):
            await sup.remove_child("a")


# -- restart types -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("restart", "after_return", "after_crash"),
    [
        (RestartType.PERMANENT, 2, 2),
        (RestartType.TRANSIENT, 1, 2),
        (RestartType.TEMPORARY, 1, 1),
    ],
)
async def test_restart_types(
    autojump_clock: trio.testing.MockClock,
    restart: RestartType,
    after_return: int,
    after_crash: int,
) -> None:
    log = Log()
    spec = tree(
        scripted(log, "returns", exit_after=crash_once(1.0), restart=restart),
        scripted(log, "crashes", crash_after=crash_once(1.0), restart=restart),
    )
    async with running(spec) as sup:
        await trio.sleep(5)
        assert instances(sup) == {"returns": after_return, "crashes": after_crash}
        states = {n.name: n.state for n in sup.nodes}
        if after_return == 1:
            assert states["returns"] is NodeState.EXITED
        if after_crash == 1:
            assert states["crashes"] is NodeState.FAILED


async def test_a_kill_counts_as_a_failure(autojump_clock: trio.testing.MockClock) -> None:
    log = Log()
    spec = tree(scripted(log, "t", restart=RestartType.TRANSIENT))
    async with running(spec) as sup:
        sup.kill("root/t")
        await trio.sleep(1)
        assert instances(sup) == {"t": 2}
        assert sup.nodes[0].last_error == "killed"
        assert sup.nodes[0].state is NodeState.RUNNING


async def test_temporary_children_are_not_restarted_by_a_group_restart(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    spec = tree(
        scripted(log, "tmp", restart=RestartType.TEMPORARY),
        scripted(log, "b", crash_after=crash_once(1.0)),
        strategy=Strategy.ONE_FOR_ALL,
    )
    async with running(spec) as sup:
        await trio.sleep(3)
        assert instances(sup) == {"tmp": 1, "b": 2}
        assert sup.nodes[0].state is NodeState.STOPPED


# -- intensity and escalation --------------------------------------------------------------


async def test_intensity_exceeded_stops_children_in_reverse_and_escalates(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    spec = tree(
        scripted(log, "a"),
        scripted(log, "b", crash_after=lambda _: 0.1),
        scripted(log, "c"),
        intensity=Intensity(max_restarts=3, period=5.0),
    )
    sup = Supervisor(spec)
    with pytest.raises(Escalation, match=r"root: 4 restarts within 5s, more than the 3 allowed"):
        await sup.run()
    assert instances(sup) == {"a": 1, "b": 4, "c": 1}
    assert log.names("stop")[-2:] == ["c", "a"]
    assert not sup.running


async def test_restarts_spread_out_beyond_the_period_do_not_escalate(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    spec = tree(
        scripted(log, "b", crash_after=lambda _: 2.0),
        intensity=Intensity(max_restarts=3, period=5.0),
    )
    async with running(spec) as sup:
        await trio.sleep(59)
        assert sup.nodes[0].restarts == 29
        assert sup.running


async def test_escalation_travels_up_to_the_root(autojump_clock: trio.testing.MockClock) -> None:
    log = Log()
    inner = SupervisorSpec(
        name="inner",
        intensity=Intensity(max_restarts=1, period=10.0),
        backoff=NO_BACKOFF,
        children=(scripted(log, "w", crash_after=lambda _: 0.5),),
    )
    middle = SupervisorSpec(
        name="middle",
        intensity=Intensity(max_restarts=1, period=100.0),
        backoff=NO_BACKOFF,
        children=(inner,),
    )
    root = tree(
        scripted(log, "bystander"), middle, intensity=Intensity(max_restarts=1, period=100.0)
    )
    sup = Supervisor(root)
    with pytest.raises(Escalation) as caught:
        await sup.run()
    assert str(caught.value).startswith("root: 2 restarts")
    assert "root/middle" in str(caught.value)
    middle_node = sup.find("root/middle")
    assert not isinstance(middle_node, Supervisor)
    assert middle_node.last_error is not None
    assert "root/middle: 2 restarts" in middle_node.last_error
    assert log.names("stop")[-1] == "bystander"


# -- backoff -------------------------------------------------------------------------------


async def test_backoff_doubles_up_to_the_cap(autojump_clock: trio.testing.MockClock) -> None:
    log = Log()
    spec = tree(
        scripted(log, "w", crash_after=lambda _: 0.0),
        backoff=Backoff(initial=1.0, factor=2.0, max=8.0, jitter=0.0, reset_after=100.0),
    )
    async with running(spec):
        await trio.sleep(40)
    starts = log.times("w", "start")
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(starts)]
    assert gaps[:6] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


async def test_backoff_jitter_stays_within_bounds_and_replays_with_the_seed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def gaps(seed: int) -> list[float]:
        log = Log()
        spec = tree(
            scripted(log, "w", crash_after=lambda _: 0.0),
            backoff=Backoff(initial=1.0, factor=1.0, max=1.0, jitter=0.5),
        )
        async with running(spec, rng=random.Random(seed)):
            await trio.sleep(30)
        starts = log.times("w", "start")
        return [round(b - a, 9) for a, b in itertools.pairwise(starts)]

    first = await gaps(7)
    assert len(first) > 15
    assert all(0.5 <= g <= 1.5 for g in first)
    assert len(set(first)) > 10  # spread out, not one fixed delay
    assert await gaps(7) == first


async def test_backoff_resets_after_the_child_stayed_up(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    # Crashes at once three times, then stays up 10 s, then crashes at once again.
    spec = tree(
        scripted(log, "w", crash_after=lambda i: 10.0 if i == 4 else 0.0),
        backoff=Backoff(initial=1.0, factor=2.0, max=100.0, jitter=0.0, reset_after=5.0),
    )
    async with running(spec):
        await trio.sleep(30)
    starts = log.times("w", "start")
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(starts)]
    assert gaps[:5] == [1.0, 2.0, 4.0, 11.0, 2.0]


async def test_group_members_wait_for_the_same_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    spec = tree(
        scripted(log, "a", crash_after=crash_once(1.0)),
        scripted(log, "b"),
        strategy=Strategy.REST_FOR_ONE,
        backoff=Backoff(initial=3.0, max=10.0, jitter=0.0),
    )
    async with running(spec) as sup:
        await trio.sleep(1.5)
        assert [n.state for n in sup.nodes] == [NodeState.BACKOFF, NodeState.BACKOFF]
        await trio.sleep(3)
        assert log.times("a", "start")[1] == pytest.approx(4.0)
        assert log.times("b", "start")[1] == pytest.approx(4.0)


# -- operator requests ---------------------------------------------------------------------


async def test_operator_restart_and_lookup(autojump_clock: trio.testing.MockClock) -> None:
    log = Log()
    inner = SupervisorSpec(name="inner", children=(scripted(log, "w"),))
    async with running(tree(scripted(log, "a"), inner)) as sup:
        await sup.restart("root/inner/w")
        await sup.restart("root/a")
        assert instances(sup) == {"a": 2, "inner": 1}
        assert sup.find("root/inner/w").restarts == 1  # type: ignore[union-attr]
        assert sup.total_restarts == 0  # operator restarts do not count against intensity
        with pytest.raises(NodeNotFound, match="children of root: root/a, root/inner"):
            sup.find("root/nope")
        with pytest.raises(NodeNotFound, match="paths start with 'root/'"):
            sup.find("other/a")
        with pytest.raises(SupervisionError, match="is the root"):
            sup.kill("root")
        rows = sup.tree()
        assert [r["path"] for r in rows] == ["root", "root/a", "root/inner", "root/inner/w"]
        assert rows[2]["strategy"] == "one_for_one"
        assert rows[3]["state"] == "running"


async def test_killing_a_supervisor_restarts_its_subtree(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    inner = SupervisorSpec(name="inner", children=(scripted(log, "x"), scripted(log, "y")))
    async with running(tree(scripted(log, "a"), inner)) as sup:
        sup.kill("root/inner")
        await trio.sleep(1)
        assert log.names("stop") == ["y", "x"]
        x = sup.find("root/inner/x")
        assert not isinstance(x, Supervisor)
        assert x.starts == 2
        assert instances(sup) == {"a": 1, "inner": 2}


async def test_a_failed_start_during_a_restart_is_retried_with_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    spec = tree(
        scripted(log, "a"),
        scripted(log, "w", crash_after=crash_once(1.0), fail_start=lambda i: i in (2, 3)),
        backoff=Backoff(initial=1.0, factor=2.0, jitter=0.0, max=10.0),
    )
    async with running(spec) as sup:
        await trio.sleep(20)
        w = sup.nodes[1]
        assert w.state is NodeState.RUNNING
        assert w.starts == 4
        assert w.restarts == 3
        # crash at 1, then starts at 2 (fails), 4 (fails), 8 (runs): the backoff doubled
        assert log.times("w", "start") == [0.0, 2.0, 4.0, 8.0]
        assert sup.nodes[0].starts == 1


async def test_a_child_that_never_starts_again_escalates(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log = Log()
    spec = tree(
        scripted(log, "w", crash_after=crash_once(1.0), fail_start=lambda i: i > 1),
        intensity=Intensity(max_restarts=5, period=100.0),
    )
    with pytest.raises(Escalation, match="6 restarts within 100s"):
        await Supervisor(spec).run()
    assert log.names("start-failed") == ["w"] * 5


async def test_the_shield_of_a_started_child_gets_a_deadline_when_its_supervisor_stops(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: dict[str, float] = {}

    async def child(ctx: Any, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        try:
            await trio.sleep_forever()
        finally:
            scope = ctx.supervisor.find(ctx.path).instance.scope
            seen[ctx.name] = scope.deadline - trio.current_time()

    from tests.supervision.conftest import worker

    spec = tree(*(worker(n, child, shutdown_timeout=t) for n, t in (("a", 1), ("b", 2), ("c", 3))))
    async with running(spec):
        pass
    # Stopped in reverse order, each one at once: c may take 3 s, b 3 + 2, a 3 + 2 + 1.
    assert seen == {"c": pytest.approx(3.0), "b": pytest.approx(5.0), "a": pytest.approx(6.0)}
