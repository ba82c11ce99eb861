"""An Inbox with several batches in flight (``receive_more`` / ``done_oldest``): what is
acknowledged is forgotten oldest first; a kill hands every unacknowledged item to the next
instance in order; a suspect after a crash still goes alone."""

from __future__ import annotations

from typing import Any

import trio
import trio.testing

from mdp.supervision import (
    Backoff,
    ChannelSpec,
    Context,
    Intensity,
    Strategy,
    Supervisor,
    SupervisorSpec,
)
from tests.supervision.conftest import worker


def pipeline(*children: Any) -> SupervisorSpec:
    return SupervisorSpec(
        name="p",
        strategy=Strategy.ONE_FOR_ONE,
        backoff=Backoff(initial=0.0),
        intensity=Intensity(max_restarts=100, period=1.0),
        channels=(ChannelSpec(name="in", capacity=100),),
        children=children,
    )


async def test_batches_stay_in_flight_until_acknowledged_oldest_first(
    autojump_clock: trio.testing.MockClock,
) -> None:
    taken: list[tuple[int, list[int]]] = []

    async def holder(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        inbox = ctx.inputs[0]
        if ctx.instance == 1:
            taken.append((1, await inbox.receive_more(2)))  # [1, 2]
            taken.append((1, await inbox.receive_more(2)))  # [3, 4]: 1, 2 still in flight
            taken.append((1, await inbox.receive_more(1)))  # [5]
            inbox.done_oldest(2)  # the broker has 1 and 2
            assert inbox.in_flight == [3, 4, 5]
        else:
            taken.append((ctx.instance, await inbox.receive_more(10)))
        await trio.sleep_forever()

    sup = Supervisor(pipeline(worker("w", holder, inputs=["in"])))
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await sup.channels["in"].send_batch([1, 2, 3, 4, 5, 6, 7])
        await trio.sleep(1)
        sup.kill("p/w")
        await trio.sleep(1)
        # 3, 4, 5 were not acknowledged: they come back first, as a batch (kills are not
        # the items' fault, so they are no suspects); 6 and 7 were never taken.
        assert taken == [(1, [1, 2]), (1, [3, 4]), (1, [5]), (2, [3, 4, 5])]
        assert sup.find("p/w").snapshot()["redelivered"] == 3
        assert sup.channels["in"].depth == 2
        nursery.cancel_scope.cancel()


async def test_a_suspect_goes_alone_and_nothing_joins_it_in_flight(
    autojump_clock: trio.testing.MockClock,
) -> None:
    events: list[tuple[int, str, list[int]]] = []

    async def crasher(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        inbox = ctx.inputs[0]
        if ctx.instance == 1:
            await inbox.receive_more(2)
            await inbox.receive_more(2)
            raise ValueError("crash with 1, 2, 3, 4 in flight")
        first = await inbox.receive_more(10)
        events.append((ctx.instance, "took", first))
        with trio.move_on_after(5):  # blocks: 1 is a suspect and still in flight
            events.append((ctx.instance, "took", await inbox.receive_more(10)))
        events.append((ctx.instance, "waited", inbox.in_flight))
        inbox.done_oldest(1)
        events.append((ctx.instance, "then", await inbox.receive_more(10)))
        await trio.sleep_forever()

    sup = Supervisor(pipeline(worker("w", crasher, inputs=["in"], max_attempts=3)))
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await sup.channels["in"].send_batch([1, 2, 3, 4, 5])
        await trio.sleep(30)
        assert events == [(2, "took", [1]), (2, "waited", [1]), (2, "then", [2])]
        nursery.cancel_scope.cancel()


async def test_done_oldest_of_everything_lets_a_drain_finish(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def acker(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        inbox = ctx.inputs[0]
        while True:
            first = await inbox.receive_more(2)
            second = await inbox.receive_more(2)
            await trio.sleep(0.5)
            inbox.done_oldest(len(first))
            await trio.sleep(0.5)
            inbox.done_oldest(len(second))

    sup = Supervisor(pipeline(worker("w", acker, inputs=["in"])))
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await sup.channels["in"].send_batch(list(range(8)))
        with trio.fail_after(10):
            await sup.find("p/w").inboxes[0].wait_drained()
        assert trio.current_time() >= 4 * 0.5  # two rounds of two acknowledgements
        nursery.cancel_scope.cancel()
