"""``bus.consumer`` commits only what the sink acknowledged: with a sink that holds its
first batch and never asks for the next, the group's committed position stays at 0 however
much the consumer put into the channel; once the sink goes on, the commits follow it.
In-process bus, so the committed positions can be read directly."""

from __future__ import annotations

from pathlib import Path

import trio
import trio.testing

from mdp.bus import forget_memory_bus, memory_bus
from mdp.supervision._notify import Notifier
from mdp.supervision._role import load_role
from mdp.supervision._runtime import RunningRole, run_role
from tests.bus.helpers import Arrivals, trades, unique_instruments, wait_until

ROLE = """
[run]
imports = ["mdp.bus", "tests.bus.components"]

[supervisor]

[[supervisor.channels]]
name = "records"
capacity = 3000

[[supervisor.children]]
name = "sink"
component = "bustest.sink"
inputs = ["records"]
args = { batch = 1000, pause = @PAUSE@ }

[[supervisor.children]]
name = "consumer"
component = "bus.consumer"
outputs = ["records"]
args = { config = "", transport = "memory", bus = "@BUS@", topics = ["^trade\\\\..*"], group = "g" }
"""


async def test_commits_follow_the_sink_not_the_channel(tmp_path: Path) -> None:
    instruments = unique_instruments(1)
    name = f"commit-{instruments[0].exchange}"
    bus = memory_bus(name, max_records=500)
    (tmp_path / "acks.toml").write_text(ROLE.replace("@BUS@", name).replace("@PAUSE@", "3600"))
    role = load_role(str(tmp_path / "acks.toml"))
    try:
        async with trio.open_nursery() as nursery:
            running: RunningRole = await nursery.start(
                lambda task_status: run_role(
                    role,
                    control_dir=tmp_path,
                    notifier=Notifier(""),
                    handle_signals=False,
                    task_status=task_status,
                )
            )
            await bus.producer().send(trades(instruments, 0, 10_000))
            sink = running.root.find("acks/sink")
            assert sink is not None
            channel = running.root.all_channels()[0]
            await wait_until(lambda: channel.depth == channel.capacity, 0.01)
            await trio.sleep(0.2)  # several looks at downstream's progress
            arrived: Arrivals = sink.memo["arrived"]
            assert 0 < arrived.total <= 1000, "the sink holds its first batch, unacknowledged"
            assert bus.groups["g"].committed.get(next(iter(bus.logs)), 0) == 0
            running.root.kill("acks/sink")  # the next instance takes the batch again…
            await wait_until(lambda: sink.instance is not None and sink.restarts == 1, 0.01)
            await trio.sleep(0.2)  # …and holds it: still nothing acknowledged
            assert bus.groups["g"].committed.get(next(iter(bus.logs)), 0) == 0
            nursery.cancel_scope.cancel()

        # The same group with a sink that goes on: it starts from 0 (nothing was
        # committed), and the commits follow it to the end.
        (tmp_path / "acks.toml").write_text(ROLE.replace("@BUS@", name).replace("@PAUSE@", "0"))
        role = load_role(str(tmp_path / "acks.toml"))
        async with trio.open_nursery() as nursery:
            running = await nursery.start(
                lambda task_status: run_role(
                    role,
                    control_dir=tmp_path,
                    notifier=Notifier(""),
                    handle_signals=False,
                    task_status=task_status,
                )
            )
            sink = running.root.find("acks/sink")
            assert sink is not None
            topic = next(iter(bus.logs))
            with trio.fail_after(10):
                await wait_until(lambda: bus.groups["g"].committed.get(topic, 0) == 10_000, 0.01)
            arrived = sink.memo["arrived"]
            assert arrived.ids["BTC/USDT"] == list(range(10_000))
            nursery.cancel_scope.cancel()
    finally:
        forget_memory_bus(name)
