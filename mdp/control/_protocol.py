"""The control socket's wire format: one JSON object per line, each way.

Requests: ``{"cmd": "tree"}``, ``{"cmd": "kill", "path": "demo/stages/add-1"}``, …
Replies: ``{"ok": true, ...}`` or ``{"ok": false, "error": "what went wrong"}``. Lines are
bounded so that a client cannot make the role buffer without end.
"""

from __future__ import annotations

import os
from pathlib import Path

import trio

__all__ = ["COMMANDS", "MAX_LINE", "LineReader", "socket_path"]

MAX_LINE = 64 * 1024

# Command name → whether it takes a PATH argument.
COMMANDS: dict[str, bool] = {
    "tree": False,
    "channels": False,
    "stats": False,
    "restart": True,
    "kill": True,
    "stop": False,
}


def socket_path(role: str, control_dir: Path) -> Path:
    """``$RUNTIME_DIRECTORY/<role>.sock`` under systemd (its first entry), else
    ``<control_dir>/<role>.sock``."""
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(runtime or control_dir) / f"{role}.sock"


class LineTooLong(ValueError):
    pass


class LineReader:
    """Split a byte stream into lines of at most ``MAX_LINE`` bytes."""

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._stream = stream
        self._buffer = bytearray()

    async def readline(self) -> bytes | None:
        """The next line without its newline; ``None`` at end of stream."""
        while True:
            end = self._buffer.find(b"\n")
            if end > MAX_LINE or (end < 0 and len(self._buffer) > MAX_LINE):
                raise LineTooLong(f"request longer than {MAX_LINE} bytes")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return line
            data = await self._stream.receive_some(65536)
            if not data:
                if self._buffer:
                    line = bytes(self._buffer)
                    self._buffer.clear()
                    return line
                return None
            self._buffer += data
