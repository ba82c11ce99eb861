"""``mdp collect okx --simulator``, the collector-okx role file, and the simulator as a
worker with an OKX port."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from mdp.cli import main
from mdp.supervision import Supervisor, SupervisorSpec, WorkerSpec
from mdp.supervision._role import load_role
from mdp.supervision._runtime import build_tree
from tests.simulator.okx.test_wire import _handshake

ROOT = Path(__file__).parents[3]


def test_collect_okx_with_simulator_prints_a_summary_per_second(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["collect", "okx", "--simulator", "--symbols", "BTC-USDT,BTC-USDT-SWAP"]
    assert main([*argv, "--seconds", "2.6"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "msgs/s" in line]
    assert len(lines) >= 2
    assert all("gaps" in line and "backfilled" in line and "resyncs" in line for line in lines)
    assert float(lines[-1].split()[0]) > 0
    assert int(lines[-1].split()[2]) > 0  # records reached the counting sink


def test_role_file_builds() -> None:
    role = load_role("collector-okx", ROOT / "supervisors")
    root = build_tree(role)
    assert [n.name for n in root.nodes] == ["count", "spot", "swap"]


async def test_simulator_worker_serves_okx_on_its_port(nursery: trio.Nursery) -> None:
    args = {"spot_port": 0, "futures_port": 0, "okx_port": 0}
    spec = SupervisorSpec(
        name="sim", children=[WorkerSpec(name="simulator", component="simulator.serve", args=args)]
    )
    sup = Supervisor(spec)
    await nursery.start(sup.run)
    address = sup.nodes[0].memo["okx_address"]
    assert await _handshake(address.port) == 101
