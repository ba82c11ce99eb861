"""``mdp run`` as a real process: systemd's notify protocol, ``mdp ctl``, SIGTERM, escalation."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import trio

REPO = Path(__file__).resolve().parents[2]
ROLES = Path(__file__).parent / "roles"
DRAIN = 3.0  # --drain-timeout given to the role; a signal's stop must be done within it


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A temporary directory with a short path: Unix socket paths must fit in 108 bytes."""
    with tempfile.TemporaryDirectory(prefix="mdp-", dir="/tmp") as d:
        yield Path(d)


def _open_log(path: Path) -> IO[bytes]:
    return path.open("wb")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_PID")}
    env.update(extra)
    env["PYTHONPATH"] = str(REPO)
    return env


def _mdp(*args: str) -> list[str]:
    return [sys.executable, "-m", "mdp", *args]


class NotifyListener:
    """The test's end of NOTIFY_SOCKET: reads what the role tells systemd, all the time
    (as systemd does; an unread socket fills up and the role's sends fail)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.messages: list[str] = []
        self._changed = trio.Event()

    async def run(self, *, task_status: trio.TaskStatus[None]) -> None:
        await self.sock.bind(str(self.path))
        task_status.started()
        while True:
            data = await self.sock.recv(4096)
            self.messages.extend(data.decode().splitlines())
            self._changed.set()
            self._changed = trio.Event()

    async def until(self, line: str, count: int = 1) -> None:
        while self.count(line) < count:
            await self._changed.wait()

    def count(self, line: str) -> int:
        return sum(1 for m in self.messages if m == line)

    def close(self) -> None:
        self.sock.close()


async def _ctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    with trio.fail_after(30):  # a fresh interpreter; slow only on a very busy machine
        return await trio.run_process(
            _mdp("ctl", *args), env=env, cwd=REPO, capture_stdout=True, capture_stderr=True,
            check=False,
        )  # fmt: skip


async def _check_ctl(env: dict[str, str]) -> None:
    """``mdp ctl`` from other processes: a table, JSON, and a clear error."""
    results: dict[str, subprocess.CompletedProcess[bytes]] = {}

    async def ctl(name: str, *args: str) -> None:
        results[name] = await _ctl(env, *args)

    async with trio.open_nursery() as nursery:  # three interpreters start in parallel
        nursery.start_soon(ctl, "tree", "tree", "--role", "demo")
        nursery.start_soon(ctl, "stats", "stats", "--role", "demo", "--json")
        nursery.start_soon(ctl, "bad", "kill", "demo/nope")  # the role comes from the path
    tree, stats, bad = results["tree"], results["stats"], results["bad"]
    assert tree.returncode == 0, tree.stderr
    lines = tree.stdout.decode().splitlines()
    assert lines[0].split()[:3] == ["PATH", "KIND", "STATE"]
    paths = {line.split()[0]: line.split()[2] for line in lines[1:]}
    assert paths == {
        "demo": "running",
        "demo/sink": "running",
        "demo/stages": "running",
        "demo/stages/add-2": "running",
        "demo/stages/add-1": "running",
        "demo/source": "running",
    }
    body: dict[str, Any] = json.loads(stats.stdout)
    assert body["ok"] is True
    assert body["stats"]["items_out"] > 0
    assert body["stats"]["metrics"].startswith("http://127.0.0.1:")
    assert bad.returncode == 2
    assert b"no node 'demo/nope'" in bad.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_mdp_run_demo_notifies_systemd_answers_ctl_and_drains_on_a_signal(
    short_dir: Path, signum: signal.Signals
) -> None:
    async with trio.open_nursery() as nursery:
        notify = NotifyListener(short_dir / "notify")
        await nursery.start(notify.run)
        await _run_demo(short_dir, notify, signum)
        nursery.cancel_scope.cancel()
    notify.close()


async def _run_demo(short_dir: Path, notify: NotifyListener, signum: signal.Signals) -> None:
    runtime = short_dir / "rt"
    env = _env(
        NOTIFY_SOCKET=str(notify.path), WATCHDOG_USEC="200000", RUNTIME_DIRECTORY=str(runtime)
    )
    log = _open_log(short_dir / "stderr")
    proc = await trio.lowlevel.open_process(
        _mdp(
            "run",
            "demo",
            "--roles-dir",
            str(REPO / "supervisors"),
            "--drain-timeout",
            str(DRAIN),
            "--metrics",
            "127.0.0.1:0",
        ),
        env=env,
        cwd=short_dir,  # relative state paths land in the temporary directory
        stderr=log,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        with trio.fail_after(20):
            await notify.until("READY=1")
            await notify.until("WATCHDOG=1", count=3)  # every 0.1 s, from the Trio loop
        assert any(m.startswith("STATUS=running: 5/5 nodes up") for m in notify.messages)
        assert (runtime / "demo.sock").stat().st_mode & 0o777 == 0o600

        if signum == signal.SIGTERM:  # once is enough: each mdp ctl is a fresh interpreter
            await _check_ctl(env)

        proc.send_signal(signum)
        with trio.fail_after(DRAIN + 2):
            code = await proc.wait()
            await notify.until("STOPPING=1")
        assert code == 0, (short_dir / "stderr").read_text()
        assert not (runtime / "demo.sock").exists()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()


async def test_escalation_at_the_root_exits_non_zero(short_dir: Path) -> None:
    async with trio.open_nursery() as nursery:
        notify = NotifyListener(short_dir / "notify")
        await nursery.start(notify.run)
        env = _env(NOTIFY_SOCKET=str(notify.path))
        with trio.fail_after(20):
            result = await trio.run_process(
                _mdp("run", str(ROLES / "escalate.toml"), "--control-dir", str(short_dir / "rt")),
                env=env,
                cwd=short_dir,
                capture_stderr=True,
                check=False,
            )
            await notify.until("READY=1")
            await notify.until("STOPPING=1")
        nursery.cancel_scope.cancel()
    notify.close()
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "the root supervisor gave up: escalate: 3 restarts within 10s" in stderr
    assert "crashed on purpose" in stderr
