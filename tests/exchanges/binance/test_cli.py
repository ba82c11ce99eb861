"""``mdp collect binance --simulator`` and the collector-binance role file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdp.cli import main
from mdp.supervision._role import load_role
from mdp.supervision._runtime import build_tree

ROOT = Path(__file__).parents[3]


def test_collect_with_simulator_prints_a_summary_per_second(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["collect", "binance", "--simulator", "--symbols", "BTCUSDT", "--seconds", "2.6"])
    assert code == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "msgs/s" in line]
    assert len(lines) >= 2
    assert all("gaps" in line and "backfilled" in line and "resyncs" in line for line in lines)
    assert float(lines[-1].split()[0]) > 0


def test_role_file_builds() -> None:
    role = load_role("collector-binance", ROOT / "supervisors")
    root = build_tree(role)
    names = [n.name for n in root.nodes]
    assert names == ["count", "spot", "usdm-market", "usdm-public"]
