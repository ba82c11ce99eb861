"""The control socket server: live inspection and chaos for a running role.

One Unix stream socket per role, mode 0600 (only the role's user may kill its tasks),
JSON lines. Every request gets exactly one reply line; a malformed request gets an error
reply and the connection stays usable. Nothing a client sends can raise into the role:
the handler turns every failure into an error reply.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import trio

from mdp._exceptions import ControlError, MdpError
from mdp.control._protocol import COMMANDS, LineReader, LineTooLong
from mdp.supervision import NodeState, Supervisor

__all__ = ["ControlServer"]

log = logging.getLogger("mdp.control")


class ControlServer:
    """Answers control requests about ``root``; ``on_stop`` is called for ``stop``."""

    def __init__(
        self,
        root: Supervisor,
        *,
        on_stop: Callable[[], None],
        extra_stats: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.root = root
        self._on_stop = on_stop
        self._extra_stats = extra_stats or dict
        self.started_at = 0.0

    async def serve(
        self, path: Path, *, task_status: trio.TaskStatus[Path] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Listen on ``path`` until cancelled; reports the path once it accepts."""
        listener = await _listen(path)
        self.started_at = trio.current_time()
        try:
            async with trio.open_nursery() as nursery:
                task_status.started(path)
                while True:
                    stream = await listener.accept()
                    nursery.start_soon(self._connection, stream)
        finally:
            # Synchronous closes in cleanup: an aclose() here would checkpoint under
            # cancellation and could hide the error that brought us here.
            listener.socket.close()
            _remove(path)

    async def _connection(self, stream: trio.SocketStream) -> None:
        reader = LineReader(stream)
        try:
            while True:
                try:
                    line = await reader.readline()
                except LineTooLong as exc:
                    await stream.send_all(_reply({"ok": False, "error": str(exc)}))
                    return
                if line is None:
                    return
                if not line.strip():
                    continue
                await stream.send_all(_reply(await self.handle(line)))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return  # the client went away; nothing to tell it
        finally:
            stream.socket.close()

    async def handle(self, line: bytes) -> dict[str, Any]:
        """One request line → one reply object."""
        try:
            request = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            return {"ok": False, "error": f"not JSON: {exc}"}
        if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
            return {"ok": False, "error": 'a request is an object like {"cmd": "tree"}'}
        cmd = request["cmd"]
        if cmd not in COMMANDS:
            return {
                "ok": False,
                "error": f"unknown command {cmd!r}; commands: {', '.join(COMMANDS)}",
            }
        path = request.get("path")
        if COMMANDS[cmd] and not isinstance(path, str):
            return {"ok": False, "error": f"{cmd} needs a node path, e.g. {self._example()}"}
        try:
            return {"ok": True, **(await self._run(cmd, path))}
        except MdpError as exc:
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # never let a request harm the role
            log.exception("control request %r failed", request)
            return {"ok": False, "error": f"internal error: {type(exc).__name__}: {exc}"}

    async def _run(self, cmd: str, path: str | None) -> dict[str, Any]:
        root = self.root
        if cmd == "tree":
            return {"nodes": root.tree()}
        if cmd == "channels":
            return {"channels": [_channel_row(c) for c in root.all_channels()]}
        if cmd == "stats":
            return {"stats": self.stats()}
        if cmd == "kill":
            assert path is not None
            root.kill(path)
            return {"killed": path}
        if cmd == "restart":
            assert path is not None
            await root.restart(path)
            return {"restarted": path}
        if cmd == "stop":
            self._on_stop()
            return {"stopping": True}
        raise ControlError(f"unhandled command {cmd!r}")  # pragma: no cover

    def stats(self) -> dict[str, Any]:
        nodes = self.root.walk()
        states: dict[str, int] = {}
        for node in nodes:
            states[str(node.state)] = states.get(str(node.state), 0) + 1
        channels = self.root.all_channels()
        return {
            "role": self.root.path,
            "pid": os.getpid(),
            "uptime": round(trio.current_time() - self.started_at, 3),
            "nodes": len(nodes),
            "running": states.get(str(NodeState.RUNNING), 0),
            "states": states,
            "restarts": sum(n.restarts for n in nodes),
            "redelivered": sum(i.redelivered for n in nodes for i in n.inboxes),
            "dead_letters": self.root.dead_letters.count,
            "channels": len(channels),
            "items_in": sum(c.items_in for c in channels),
            "items_out": sum(c.items_out for c in channels),
            "dropped": sum(c.dropped for c in channels),
            **self._extra_stats(),
        }

    def _example(self) -> str:
        nodes = self.root.walk()
        return nodes[0].path if nodes else self.root.path + "/child"


def _channel_row(channel: Any) -> dict[str, Any]:
    s = channel.stats()
    return {
        "path": s.path,
        "capacity": s.capacity,
        "policy": str(s.policy),
        "depth": s.depth,
        "peak": s.peak,
        "items_in": s.items_in,
        "items_out": s.items_out,
        "dropped": s.dropped,
        "blocked_seconds": round(s.blocked_seconds, 6),
    }


def _reply(obj: dict[str, Any]) -> bytes:
    return orjson.dumps(obj, default=str) + b"\n"


async def _listen(path: Path) -> trio.SocketListener:
    """Bind ``path`` with mode 0600, replacing a stale socket but not a live one."""
    if _prepare(path):
        if await _is_live(path):
            raise ControlError(
                f"{path} is in use by a running role; stop it first, or give this one "
                "another control directory"
            )
        _remove(path)
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # no moment when the socket is reachable by others
    try:
        await sock.bind(str(path))
    except OSError as exc:
        sock.close()
        raise ControlError(f"cannot bind the control socket {path}: {exc.strerror}") from None
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    sock.listen(16)
    return trio.SocketListener(sock)


# Local metadata operations on the runtime directory, synchronous on purpose: they take
# microseconds, and removing the socket must work in cleanup even when cancelled.
def _prepare(path: Path) -> bool:
    """Make the directory; tell whether something is already at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.exists() or path.is_symlink()


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


async def _is_live(path: Path) -> bool:
    probe = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        await probe.connect(str(path))
    except OSError as exc:
        if exc.errno in (errno.ECONNREFUSED, errno.ENOENT, errno.ENOTSOCK):
            return False
        raise
    finally:
        probe.close()
    return True
