"""The control socket: every command, malformed requests, permissions, a live socket."""

from __future__ import annotations

import random
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio

from mdp._exceptions import ConfigError, ControlError
from mdp.cli._ctl import render
from mdp.control import MAX_LINE, ControlClient, ControlServer, socket_path
from mdp.supervision._notify import Notifier
from mdp.supervision._role import load_role
from mdp.supervision._runtime import RunningRole, run_role

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def short_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mdp-", dir="/tmp") as d:
        monkeypatch.chdir(d)
        monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
        yield Path(d)


@asynccontextmanager
async def demo(short_dir: Path) -> AsyncIterator[tuple[RunningRole, ControlClient]]:
    role = load_role("demo", REPO / "supervisors")
    codes: list[int] = []

    async def run(task_status: trio.TaskStatus[RunningRole]) -> None:
        codes.append(
            await run_role(
                role,
                control_dir=short_dir / "run",
                notifier=Notifier(""),
                handle_signals=False,
                rng=random.Random(1),
                task_status=task_status,
            )
        )

    async with trio.open_nursery() as nursery:
        running: RunningRole = await nursery.start(run)
        async with await ControlClient.connect(running.control_socket) as client:
            yield running, client
            await client.request("stop")
    assert codes == [0]


async def test_tree_channels_and_stats(short_dir: Path) -> None:
    async with demo(short_dir) as (running, ctl):
        assert running.control_socket == short_dir / "run" / "demo.sock"
        assert running.control_socket.stat().st_mode & 0o777 == 0o600
        nodes = (await ctl.request("tree"))["nodes"]
        assert [n["path"] for n in nodes] == [
            "demo",
            "demo/sink",
            "demo/stages",
            "demo/stages/add-2",
            "demo/stages/add-1",
            "demo/source",
        ]
        assert {n["state"] for n in nodes} == {"running"}
        assert set(nodes[1]) >= {"path", "state", "restarts", "uptime", "last_error"}
        channels = (await ctl.request("channels"))["channels"]
        assert [c["path"] for c in channels] == ["demo/numbers", "demo/plus-one", "demo/plus-two"]
        assert set(channels[0]) == {
            "path", "capacity", "policy", "depth", "peak", "items_in", "items_out", "dropped",
            "blocked_seconds",
        }  # fmt: skip
        stats = (await ctl.request("stats"))["stats"]
        assert stats["role"] == "demo"
        assert stats["nodes"] == 5
        assert stats["running"] == 5
        assert stats["stopping"] is False


async def test_kill_and_restart(short_dir: Path) -> None:
    async with demo(short_dir) as (_, ctl):
        assert (await ctl.request("kill", "demo/stages/add-1"))["killed"] == "demo/stages/add-1"
        # A restart replies once the node runs again (the kill's own restart and this one
        # may merge into one if the request overtakes the dying task's exit).
        await ctl.request("restart", "demo/stages/add-1")
        await ctl.request("restart", "demo/source")
        nodes = {n["path"]: n for n in (await ctl.request("tree"))["nodes"]}
        assert nodes["demo/stages/add-1"]["restarts"] in (1, 2)
        assert nodes["demo/stages/add-1"]["state"] == "running"
        assert nodes["demo/stages/add-1"]["last_error"] == "killed"
        assert nodes["demo/source"]["restarts"] == 1
        assert nodes["demo/source"]["state"] == "running"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"tree", "not JSON"),
        (b"[1, 2]", 'a request is an object like {"cmd": "tree"}'),
        (b'{"cmd": 3}', 'a request is an object like {"cmd": "tree"}'),
        (b'{"cmd": "explode"}', "unknown command 'explode'; commands: tree, channels, stats"),
        (b'{"cmd": "kill"}', "kill needs a node path, e.g. demo/sink"),
        (b'{"cmd": "kill", "path": "demo/nope"}', "no node 'demo/nope'; children of demo:"),
        (b'{"cmd": "kill", "path": "elsewhere"}', "paths start with 'demo/'"),
        (b'{"cmd": "restart", "path": "demo"}', "demo is the root; use stop to end the role"),
    ],
)
async def test_a_malformed_request_gets_an_error_and_harms_nothing(
    short_dir: Path, line: bytes, error: str
) -> None:
    async with demo(short_dir) as (running, ctl):
        reply = await ctl.raw(line)
        assert reply["ok"] is False
        assert error in reply["error"]
        # Same connection, still fine; the role did not notice.
        assert (await ctl.request("stats"))["stats"]["running"] == 5
        assert running.root.running


async def test_an_endless_line_is_refused_and_the_role_goes_on(short_dir: Path) -> None:
    async with demo(short_dir) as (running, ctl):
        async with await ControlClient.connect(running.control_socket) as other:
            reply = await other.raw(b"x" * (MAX_LINE + 10))
            assert reply == {"ok": False, "error": f"request longer than {MAX_LINE} bytes"}
        assert (await ctl.request("tree"))["ok"] is True


async def test_a_client_that_hangs_up_mid_request_harms_nothing(short_dir: Path) -> None:
    async with demo(short_dir) as (running, ctl):
        stream = await trio.open_unix_socket(str(running.control_socket))
        await stream.send_all(b'{"cmd": "tr')
        await stream.aclose()
        assert (await ctl.request("tree"))["ok"] is True


async def test_a_live_socket_is_not_stolen_and_a_stale_one_is_replaced(short_dir: Path) -> None:
    async with demo(short_dir) as (running, _):
        other = ControlServer(running.root, on_stop=lambda: None)
        with pytest.raises(ControlError, match="in use by a running role"):
            await other.serve(running.control_socket)
    stale = short_dir / "run" / "demo.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(stale))  # bound, never listening, then closed: a leftover file
    sock.close()
    async with demo(short_dir) as (_, ctl):
        assert (await ctl.request("tree"))["ok"] is True


async def test_stop_drains_and_run_role_returns_zero(short_dir: Path) -> None:
    async with demo(short_dir) as (running, _):
        pass
    assert not running.root.running
    assert not running.control_socket.exists()
    with pytest.raises(ControlError, match="cannot reach the control socket"):
        await ControlClient.connect(running.control_socket)


def test_ctl_renders_readable_tables() -> None:
    out = render(
        "tree",
        {
            "ok": True,
            "nodes": [
                {"path": "demo", "kind": "supervisor", "state": "running", "restart": "permanent",
                 "restarts": 0, "uptime": 1.5, "last_error": None},
                {"path": "demo/sink", "kind": "worker", "state": "backoff", "restart": "transient",
                 "restarts": 12, "uptime": 0.0, "last_error": "ValueError: bad"},
            ],
        },
    )  # fmt: skip
    assert out.splitlines() == [
        "PATH       KIND        STATE    RESTART    RESTARTS  UPTIME  LAST ERROR",
        "demo       supervisor  running  permanent         0   1.500  -",
        "demo/sink  worker      backoff  transient        12   0.000  ValueError: bad",
    ]
    assert render("kill", {"ok": True, "killed": "demo/sink"}) == "ok  killed: demo/sink"
    stats = render("stats", {"ok": True, "stats": {"role": "demo", "states": {"running": 5}}})
    assert stats.splitlines() == ["role    demo", "states  running=5"]


async def test_a_second_run_of_the_role_fails_with_one_clear_error(short_dir: Path) -> None:
    role = load_role("demo", REPO / "supervisors")
    async with demo(short_dir):
        with pytest.raises(ControlError, match="in use by a running role; stop it first"):
            await run_role(
                role, control_dir=short_dir / "run", notifier=Notifier(""), handle_signals=False
            )


async def test_a_metrics_port_in_use_fails_with_one_clear_error(short_dir: Path) -> None:
    role = load_role("demo", REPO / "supervisors")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        with pytest.raises(ConfigError, match=f"metrics address 127.0.0.1:{port}: cannot listen"):
            await run_role(
                role,
                control_dir=short_dir / "run",
                metrics=f"127.0.0.1:{port}",
                notifier=Notifier(""),
                handle_signals=False,
            )
    finally:
        taken.close()


def test_ctl_renders_channels_as_a_table() -> None:
    row = {
        "path": "demo/numbers", "capacity": 4096, "policy": "block", "depth": 3, "peak": 100,
        "items_in": 10, "items_out": 7, "dropped": 0, "blocked_seconds": 0.25,
    }  # fmt: skip
    lines = render("channels", {"ok": True, "channels": [row]}).splitlines()
    assert lines[0].split() == [
        "PATH", "CAPACITY", "POLICY", "DEPTH", "PEAK", "ITEMS", "IN", "ITEMS", "OUT", "DROPPED",
        "BLOCKED", "SECONDS",
    ]  # fmt: skip
    assert lines[1].split() == [
        "demo/numbers",
        "4096",
        "block",
        "3",
        "100",
        "10",
        "7",
        "0",
        "0.250",
    ]


def test_the_socket_goes_to_the_runtime_directory_systemd_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    assert socket_path("sink", Path("var/run/mdp")) == Path("var/run/mdp/sink.sock")
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/run/mdp:/run/other")
    assert socket_path("sink", Path("var/run/mdp")) == Path("/run/mdp/sink.sock")
