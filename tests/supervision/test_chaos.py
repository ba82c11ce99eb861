"""Chaos: the demo pipeline under a seeded random killer, through the control socket.

Every item must arrive exactly once and in order however often and wherever the workers
are killed. The seed is fixed so that CI runs the same kill sequence every time; the seed
is printed (and in every assertion message), and ``MDP_CHAOS_SEED=<n>`` runs another one
(``MDP_CHAOS_SEED=random`` picks one): ``MDP_CHAOS_SEED=7 pytest tests/supervision/test_chaos.py``.
Thread scheduling still varies from run to run, which is the point of a chaos test.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
import trio

from mdp.control import ControlClient
from mdp.supervision._notify import Notifier
from mdp.supervision._role import load_role
from mdp.supervision._runtime import RunningRole, run_role
from tests.chaos import kill_until

ROLES = Path(__file__).parent / "roles"
ITEMS = 100_000
MIN_KILLS = 200
DEFAULT_SEED = 20261201


@pytest.mark.slow
async def test_every_item_arrives_once_and_in_order_while_workers_are_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = os.environ.get("MDP_CHAOS_SEED", str(DEFAULT_SEED))
    seed = random.randrange(2**32) if chosen == "random" else int(chosen)
    print(f"chaos seed: {seed} (replay with MDP_CHAOS_SEED={seed})")
    rng = random.Random(seed)
    monkeypatch.chdir(tmp_path)  # dead letters and the like stay in tmp
    role = load_role(str(ROLES / "chaos.toml"))
    assert role.spec.supervisor.children[-1].args["count"] == ITEMS

    async with trio.open_nursery() as nursery:
        running: RunningRole = await nursery.start(
            lambda task_status: run_role(
                role,
                control_dir=tmp_path,
                notifier=Notifier(""),
                handle_signals=False,
                rng=random.Random(seed),
                task_status=task_status,
            )
        )
        sink = running.root.find("chaos/sink").memo  # type: ignore[union-attr]
        async with await ControlClient.connect(running.control_socket) as ctl:
            nodes = (await ctl.request("tree"))["nodes"]
            workers = [n["path"] for n in nodes if n["kind"] == "worker"]
            assert len(workers) == 4
            with trio.fail_after(60):
                count = await kill_until(
                    ctl, workers, rng, lambda: sink["received"] >= ITEMS, max_pause=0.003
                )
            kills, refused = count.kills, count.refused
            nodes = {n["path"]: n for n in (await ctl.request("tree"))["nodes"]}
            stats = (await ctl.request("stats"))["stats"]
            await ctl.request("stop")

    context = f"seed={seed} kills={kills} refused={refused} sink={sink} stats={stats}"
    print(context)
    assert kills >= MIN_KILLS, context
    assert sink["received"] == ITEMS, context
    assert sink["duplicates"] == 0, context
    assert sink["gaps"] == 0, context
    assert sink["expected"] == ITEMS + 2, context  # 0..N-1, plus one twice, in order
    assert sum(n["restarts"] for n in nodes.values() if n["kind"] == "worker") >= kills, context
    assert stats["dead_letters"] == 0, context  # kills are never the item's fault
    assert stats["redelivered"] > 0, context  # the killer did catch items in flight
    assert all(c.depth == 0 for c in running.root.all_channels()), context
