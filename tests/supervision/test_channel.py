"""Channels: capacity in items, atomic batches, overflow policies and their stats."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from mdp.supervision import Channel, OverflowPolicy


async def test_block_policy_backpressures_and_counts_blocked_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ch = Channel("c", 2)
    await ch.send(1)
    await ch.send(2)
    sent = trio.Event()

    async def third() -> None:
        await ch.send(3)
        sent.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(third)
        await trio.sleep(1.5)
        assert not sent.is_set()
        assert await ch.receive() == 1
    assert sent.is_set()
    stats = ch.stats()
    assert (stats.depth, stats.peak, stats.items_in, stats.items_out) == (2, 2, 3, 1)
    assert stats.blocked_seconds == pytest.approx(1.5)
    assert stats.dropped == 0
    assert [await ch.receive(), await ch.receive()] == [2, 3]


async def test_drop_oldest_keeps_the_newest_and_counts_drops() -> None:
    ch = Channel("live", 3, OverflowPolicy.DROP_OLDEST)
    for n in range(5):
        await ch.send(n)
    await ch.send_batch([5, 6])
    assert ch.depth == 3
    assert await ch.receive_batch(10) == [4, 5, 6]
    stats = ch.stats()
    assert (stats.dropped, stats.items_in, stats.items_out, stats.peak) == (4, 7, 3, 3)
    assert stats.blocked_seconds == 0


async def test_send_batch_is_all_or_nothing_when_cancelled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ch = Channel("c", 4)
    await ch.send_batch([0, 1, 2])
    with trio.move_on_after(1):
        await ch.send_batch([3, 4])  # needs 2 places, has 1: waits, then is cancelled
    assert ch.depth == 3
    assert ch.items_in == 3
    assert await ch.receive_batch(10) == [0, 1, 2]


async def test_a_batch_larger_than_capacity_waits_for_an_empty_channel(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ch = Channel("c", 2)
    await ch.send(0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ch.send_batch, [1, 2, 3])
        await trio.testing.wait_all_tasks_blocked()
        assert ch.depth == 1
        assert await ch.receive() == 0
    assert ch.depth == 3  # went in whole
    assert ch.peak == 3


async def test_receive_batch_takes_what_is_there_up_to_the_maximum() -> None:
    ch = Channel("c", 100)
    await ch.send_batch(range(10))
    assert await ch.receive_batch(4) == [0, 1, 2, 3]
    assert await ch.receive_batch(100) == [4, 5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="max_items"):
        await ch.receive_batch(0)


async def test_close_lets_receivers_drain_then_ends() -> None:
    ch = Channel("c", 4)
    await ch.send(1)
    ch.close()
    with pytest.raises(trio.ClosedResourceError):
        await ch.send(2)
    with pytest.raises(trio.ClosedResourceError):
        ch.send_nowait(2)
    assert await ch.receive() == 1
    with pytest.raises(trio.EndOfChannel):
        await ch.receive()
    with pytest.raises(trio.EndOfChannel):
        ch.receive_nowait()


async def test_close_wakes_a_waiting_receiver() -> None:
    ch = Channel("c", 4)
    async with trio.open_nursery() as nursery:

        async def wait() -> None:
            with pytest.raises(trio.EndOfChannel):
                await ch.receive()

        nursery.start_soon(wait)
        await trio.testing.wait_all_tasks_blocked()
        ch.close()


async def test_nowait_variants() -> None:
    ch = Channel("c", 1)
    with pytest.raises(trio.WouldBlock):
        ch.receive_nowait()
    ch.send_nowait("a")
    with pytest.raises(trio.WouldBlock):
        ch.send_nowait("b")
    assert ch.receive_nowait() == "a"


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        Channel("c", 0)


async def test_a_sender_that_never_waits_still_lets_other_tasks_run() -> None:
    ch = Channel("live", 4, OverflowPolicy.DROP_OLDEST)
    ran = trio.Event()

    async def other() -> None:
        ran.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(other)
        for n in range(100):  # never has to wait: drop_oldest
            await ch.send(n)
        assert ran.is_set()


async def test_every_operation_checks_for_cancellation() -> None:
    ch = Channel("c", 10)
    await ch.send_batch([1, 2])
    reached = []
    for op in (
        lambda: ch.send(3),
        lambda: ch.send_batch([3]),
        ch.receive,
        lambda: ch.receive_batch(5),
    ):
        with trio.CancelScope() as scope:
            scope.cancel()
            await op()
            reached.append(op)
    assert reached == []
    assert ch.depth == 2
