"""No loss on restart: in-flight items go to the next instance; poison goes to dead letters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from mdp.supervision import (
    Backoff,
    ChannelSpec,
    Context,
    Intensity,
    JsonLinesDeadLetters,
    MemoryDeadLetters,
    Strategy,
    Supervisor,
    SupervisorSpec,
)
from tests.supervision.conftest import worker


def pipeline(*children: Any, strategy: Strategy = Strategy.ONE_FOR_ONE) -> SupervisorSpec:
    return SupervisorSpec(
        name="p",
        strategy=strategy,
        backoff=Backoff(initial=0.0),
        intensity=Intensity(max_restarts=100, period=1.0),
        channels=(ChannelSpec(name="in", capacity=100), ChannelSpec(name="out", capacity=100)),
        children=children,
    )


async def test_an_item_in_flight_when_killed_goes_to_the_next_instance(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[tuple[int, Any]] = []

    async def slow(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        async for item in ctx.inputs[0]:
            seen.append((ctx.instance, item))
            await trio.sleep(10)  # killed while working on it
            await ctx.outputs[0].send(item)

    sup = Supervisor(pipeline(worker("w", slow, inputs=["in"], outputs=["out"])))
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await sup.channels["in"].send_batch(["a", "b"])
        await trio.sleep(1)
        sup.kill("p/w")
        await trio.sleep(1)
        sup.kill("p/w")
        await trio.sleep(30)
        assert seen == [(1, "a"), (2, "a"), (3, "a"), (3, "b")]
        assert await sup.channels["out"].receive_batch(10) == ["a", "b"]
        node = sup.find("p/w")
        assert node.snapshot()["redelivered"] == 2
        assert sup.dead_letters.count == 0  # kills are not the item's fault
        nursery.cancel_scope.cancel()


async def test_an_item_that_keeps_crashing_the_worker_is_dead_lettered(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    attempts: list[int] = []

    async def picky(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        while True:
            batch = await ctx.inputs[0].receive_batch(1)
            if batch == [13]:
                attempts.append(ctx.instance)
                raise ValueError("13 is unlucky")
            await ctx.outputs[0].send_batch(batch)

    store = JsonLinesDeadLetters(tmp_path / "dead" / "p.jsonl")
    spec = pipeline(worker("w", picky, inputs=["in"], outputs=["out"], max_attempts=3))
    sup = Supervisor(spec, dead_letters=store)
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await sup.channels["in"].send_batch([12, 13, 14])
        await trio.sleep(1)
        assert await sup.channels["out"].receive_batch(10) == [12, 14]  # moved on
        nursery.cancel_scope.cancel()
    assert len(attempts) == 3
    (line,) = (tmp_path / "dead" / "p.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["path"] == "p/w"
    assert record["items"] == [13]
    assert record["attempts"] == 3
    assert record["error"] == "ValueError: 13 is unlucky"
    assert "Traceback" in record["traceback"]
    assert "raise ValueError" in record["traceback"]
    assert store.count == 1
    assert sup.find("p/w").snapshot()["dead_lettered"] == 1


async def test_an_item_that_crashes_fewer_times_than_allowed_is_delivered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def flaky(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        async for item in ctx.inputs[0]:
            if ctx.instance < 3:
                raise ValueError("not yet")
            await ctx.outputs[0].send(item)

    store = MemoryDeadLetters()
    sup = Supervisor(
        pipeline(worker("w", flaky, inputs=["in"], outputs=["out"])), dead_letters=store
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await sup.channels["in"].send("x")
        assert await sup.channels["out"].receive() == "x"
        nursery.cancel_scope.cancel()
    assert store.records == []


async def test_items_taken_by_a_removed_dynamic_child_go_back_to_the_channel(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def hold(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        await ctx.inputs[0].receive_batch(2)
        await trio.sleep_forever()

    sup = Supervisor(pipeline(strategy=Strategy.DYNAMIC))
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await sup.channels["in"].send_batch([1, 2, 3])
        await sup.add_child(worker("h", hold, inputs=["in"]))
        await trio.sleep(1)
        assert sup.channels["in"].depth == 1
        await sup.remove_child("h")
        assert await sup.channels["in"].receive_batch(10) == [1, 2, 3]
        nursery.cancel_scope.cancel()


async def test_a_restarted_subtree_keeps_its_channels_and_items(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def idle(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        await trio.sleep_forever()

    inner = SupervisorSpec(
        name="inner",
        channels=(ChannelSpec(name="buf", capacity=10),),
        children=(worker("w", idle, inputs=["buf"]),),
    )
    sup = Supervisor(pipeline(inner))
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        inner_sup = sup.find("p/inner").sub  # type: ignore[union-attr]
        assert inner_sup is not None
        await inner_sup.channels["buf"].send_batch([1, 2])
        sup.kill("p/inner")
        await trio.sleep(1)
        assert sup.find("p/inner").starts == 2  # type: ignore[union-attr]
        assert inner_sup.channels["buf"].depth == 2
        nursery.cancel_scope.cancel()


async def test_graceful_drain_empties_the_pipeline_before_stopping(
    autojump_clock: trio.testing.MockClock,
) -> None:
    done: list[int] = []

    async def slow_sink(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        async for item in ctx.inputs[0]:
            await trio.sleep(0.1)
            done.append(item)

    sup = Supervisor(pipeline(worker("sink", slow_sink, inputs=["in"])))
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await sup.channels["in"].send_batch(list(range(20)))
        sup.request_stop(trio.current_time() + 10)
    assert done == list(range(20))
    assert trio.current_time() == pytest.approx(2.0, abs=0.2)


async def test_graceful_drain_gives_up_at_the_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def stuck(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        await ctx.inputs[0].receive()
        await trio.sleep_forever()

    sup = Supervisor(pipeline(worker("sink", stuck, inputs=["in"])))
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await sup.channels["in"].send_batch([1, 2])
        sup.request_stop(trio.current_time() + 3)
    assert trio.current_time() == pytest.approx(3.0)
    assert sup.channels["in"].depth == 1


async def test_a_poisoned_item_in_a_batch_is_isolated_and_only_it_is_dead_lettered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    batches: list[list[int]] = []

    async def picky(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        while True:
            batch = await ctx.inputs[0].receive_batch(100)
            batches.append(batch)
            if 13 in batch:
                raise ValueError("13 is unlucky")
            await ctx.outputs[0].send_batch(batch)

    store = MemoryDeadLetters()
    spec = pipeline(worker("w", picky, inputs=["in"], outputs=["out"], max_attempts=3))
    sup = Supervisor(spec, dead_letters=store)
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await sup.channels["in"].send_batch(list(range(10, 20)))
        await trio.sleep(1)
        await sup.channels["in"].send_batch([20, 21])
        await trio.sleep(1)
        assert await sup.channels["out"].receive_batch(100) == [
            10,
            11,
            12,
            14,
            15,
            16,
            17,
            18,
            19,
            20,
            21,
        ]
        nursery.cancel_scope.cancel()
    # The whole batch once, then the suspects one by one: 13 alone twice more (3 crashes in
    # all, as configured), then the rest singly, then fresh items in a batch again.
    assert batches[0] == list(range(10, 20))
    assert batches[1:6] == [[10], [11], [12], [13], [13]]
    assert batches[6:12] == [[14], [15], [16], [17], [18], [19]]
    assert batches[12:] == [[20, 21]]
    (record,) = store.records
    assert record["items"] == [13]
    assert record["attempts"] == 3
