"""sd_notify in pure Python: what goes on the datagram socket, and the watchdog interval."""

from __future__ import annotations

import itertools
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
import trio.testing

from mdp.supervision._notify import Notifier, watchdog_interval


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    with tempfile.TemporaryDirectory(prefix="mdp-", dir="/tmp") as d:
        path = str(Path(d) / "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.setblocking(False)
        yield sock, path
        sock.close()


def received(sock: socket.socket) -> list[str]:
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


def test_messages_are_datagrams_of_assignments(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier(path)
    notifier.ready("running: 5/5")
    notifier.status("degraded")
    notifier.watchdog()
    notifier.stopping("draining")
    notifier.close()
    assert received(sock) == [
        "READY=1\nSTATUS=running: 5/5",
        "STATUS=degraded",
        "WATCHDOG=1",
        "STOPPING=1\nSTATUS=draining",
    ]


def test_abstract_socket_addresses() -> None:
    name = f"mdp-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    try:
        notifier = Notifier("@" + name)
        notifier.ready()
        notifier.close()
        assert sock.recv(100) == b"READY=1"
    finally:
        sock.close()


def test_without_notify_socket_everything_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    notifier.ready()
    notifier.stopping()


def test_a_vanished_listener_is_logged_not_raised(
    listener: tuple[socket.socket, str], caplog: pytest.LogCaptureFixture
) -> None:
    _, path = listener
    notifier = Notifier(path)
    os.unlink(path)
    notifier.watchdog()
    notifier.close()
    assert "could not notify systemd" in caplog.text


async def test_watchdog_pings_come_from_the_trio_loop(
    listener: tuple[socket.socket, str], autojump_clock: trio.testing.MockClock
) -> None:
    sock, path = listener
    notifier = Notifier(path)
    with trio.move_on_after(1.05):
        await notifier.ping_watchdog(0.25)
    notifier.close()
    assert received(sock) == ["WATCHDOG=1"] * 5  # at 0, 0.25, 0.5, 0.75, 1.0


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "200000", "WATCHDOG_PID": str(os.getpid())}, 0.1),
        ({"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"}, None),  # meant for another process
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_is_half_of_watchdog_usec(
    env: dict[str, str], expected: float | None
) -> None:
    assert watchdog_interval(env) == expected


def _block_the_loop(seconds: float) -> None:
    time.sleep(seconds)  # on purpose: this is the bug the watchdog is there to catch


async def test_a_blocked_event_loop_stops_the_watchdog_pings(
    listener: tuple[socket.socket, str],
) -> None:
    sock, path = listener
    notifier = Notifier(path)
    arrivals: list[float] = []

    async def collect() -> None:
        while True:
            await trio.lowlevel.wait_readable(sock)
            sock.recv(100)
            arrivals.append(time.monotonic())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(collect)
        nursery.start_soon(notifier.ping_watchdog, 0.02)
        await trio.sleep(0.1)
        _block_the_loop(0.4)
        await trio.sleep(0.1)
        nursery.cancel_scope.cancel()
    notifier.close()
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert max(gaps) >= 0.35  # no ping while the loop was blocked: systemd would notice
    assert sorted(gaps)[len(gaps) // 2] < 0.1  # otherwise every 20 ms or so
