"""``mdp up`` from a checkout: the whole platform on its embedded default, as a person
runs it — the lake fills within seconds, ``mdp ctl tree`` shows the tree, Ctrl-C exits 0."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_mdp_up_writes_the_lake_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(REPO / "supervisors", home / "supervisors")
    shutil.copytree(REPO / "etc", home / "etc")
    up = subprocess.Popen(
        [sys.executable, "-m", "mdp", "up", "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lake = home / "var/lib/mdp/lake"
    try:
        deadline = time.monotonic() + 60
        kinds: set[str] = set()
        while time.monotonic() < deadline and not {"kind=trade", "kind=book_delta"} <= kinds:
            assert up.poll() is None, up.stdout.read() if up.stdout else ""
            time.sleep(0.5)
            kinds = {p.name for p in lake.glob("kind=*")} if lake.is_dir() else set()
        assert {"kind=trade", "kind=book_delta", "kind=bbo"} <= kinds, kinds
        assert list(lake.glob("kind=trade/exchange=binance/market=spot/*/*/*.parquet"))
        tree = subprocess.run(
            [
                sys.executable,
                "-m",
                "mdp",
                "ctl",
                "tree",
                "--role",
                "all",
                "--control-dir",
                str(home / "var/run/mdp"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert tree.returncode == 0, tree.stderr
        for path in ("all/simulator", "all/cleaning/anomalies", "all/binance/spot", "all/lake"):
            assert path in tree.stdout
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=30)
    finally:
        if up.poll() is None:
            up.kill()
            up.communicate()
    assert up.returncode == 0, output
    assert f"Parquet lake in {lake}" in output
    assert "mdp ctl tree --role all" in output
    dead = home / "var/lib/mdp/dead-letters/all.jsonl"
    assert not dead.exists() or dead.read_text() == ""  # a clean run dead-letters nothing
