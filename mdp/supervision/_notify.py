"""systemd's notify protocol in a few lines: datagrams to ``$NOTIFY_SOCKET``.

``Type=notify`` units wait for ``READY=1``; ``STATUS=`` shows in ``systemctl status``;
``WATCHDOG=1`` must arrive within ``WatchdogSec`` or systemd restarts the unit. The pings
come from a Trio task on purpose: if the event loop is blocked, the pings stop, which is
exactly what the watchdog is there to catch. Without ``$NOTIFY_SOCKET`` every call is a
no-op, so the same code runs under systemd, in a terminal and in tests.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

import trio

__all__ = ["Notifier", "watchdog_interval"]

log = logging.getLogger("mdp.supervision.notify")


class Notifier:
    """Sends notify messages; never blocks and never raises (a lost message is logged)."""

    def __init__(self, address: str | None = None) -> None:
        if address is None:
            address = os.environ.get("NOTIFY_SOCKET") or None
        self.address = address
        self._sock: socket.socket | None = None
        if address:
            if address.startswith("@"):  # abstract namespace
                address = "\0" + address[1:]
            self._target = address
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.setblocking(False)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, *assignments: str) -> None:
        """Send ``KEY=value`` lines in one datagram."""
        if self._sock is None:
            return
        try:
            self._sock.sendto("\n".join(assignments).encode(), self._target)
        except OSError as exc:
            log.warning("could not notify systemd at %s: %s", self.address, exc)

    def ready(self, status: str | None = None) -> None:
        self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def stopping(self, status: str | None = None) -> None:
        self.send("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")

    async def ping_watchdog(self, interval: float) -> None:
        """Ping every ``interval`` seconds from the Trio loop, until cancelled."""
        while True:
            self.watchdog()
            await trio.sleep(interval)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Half of ``$WATCHDOG_USEC`` in seconds (systemd's advice), or ``None`` when the
    watchdog is off or meant for another process (``$WATCHDOG_PID``)."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    return int(usec) / 2 / 1_000_000
