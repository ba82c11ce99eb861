"""The control socket client (used by ``mdp ctl`` and by chaos tests)."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
import trio

from mdp._exceptions import ControlError
from mdp.control._protocol import LineReader

__all__ = ["ControlClient"]


class ControlClient:
    """One connection to a role's control socket; requests go one at a time."""

    def __init__(self, stream: trio.SocketStream, path: Path) -> None:
        self._stream = stream
        self._reader = LineReader(stream)
        self.path = path

    @classmethod
    async def connect(cls, path: Path) -> ControlClient:
        try:
            stream = await trio.open_unix_socket(str(path))
        except OSError as exc:
            raise ControlError(
                f"cannot reach the control socket {path} ({exc.strerror or exc}); "
                "is the role running? (mdp run ROLE)"
            ) from None
        return cls(stream, path)

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def raw(self, line: bytes) -> dict[str, Any]:
        """Send one raw line and return the reply object, whatever it says."""
        try:
            await self._stream.send_all(line.rstrip(b"\n") + b"\n")
            reply = await self._reader.readline()
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise ControlError(f"{self.path}: the role closed the connection ({exc})") from None
        if reply is None:
            raise ControlError(f"{self.path}: the role closed the connection")
        obj: dict[str, Any] = orjson.loads(reply)
        return obj

    async def request(self, cmd: str, path: str | None = None) -> dict[str, Any]:
        """Send a command; :class:`ControlError` with the role's message if it refused."""
        body: dict[str, Any] = {"cmd": cmd}
        if path is not None:
            body["path"] = path
        reply = await self.raw(orjson.dumps(body))
        if not reply.get("ok"):
            raise ControlError(str(reply.get("error", "error without a message")))
        return reply
