"""Where items that keep killing a worker go, so the worker can move on.

A JSON lines file by default: one record per poisoned delivery, with the node, the items,
the error and its traceback, readable with ``jq`` and replayable by a script. Items that
are not JSON go in as their ``repr``.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson

__all__ = ["DeadLetterStore", "JsonLinesDeadLetters", "MemoryDeadLetters"]


class DeadLetterStore(Protocol):
    """Anything that can keep a poisoned delivery."""

    count: int

    def put(self, path: str, items: Sequence[Any], error: BaseException, attempts: int) -> None:
        """Keep ``items``; called synchronously from a worker's cleanup, so it must not
        wait on anything remote."""


def _record(path: str, items: Sequence[Any], error: BaseException, attempts: int) -> bytes:
    return orjson.dumps(
        {
            "time_ns": time.time_ns(),
            "path": path,
            "attempts": attempts,
            "items": list(items),
            "error": f"{type(error).__name__}: {error}",
            "traceback": "".join(traceback.format_exception(error)),
        },
        default=repr,
    )


class JsonLinesDeadLetters:
    """Appends one JSON object per line to ``file`` (made with its directory on first use).

    The write is a small synchronous append to a local file: dead letters are rare, and the
    write must finish even inside a cancelled worker's cleanup.
    """

    def __init__(self, file: Path) -> None:
        self.file = file
        self.count = 0

    def put(self, path: str, items: Sequence[Any], error: BaseException, attempts: int) -> None:
        line = _record(path, items, error, attempts) + b"\n"
        self.file.parent.mkdir(parents=True, exist_ok=True)
        with self.file.open("ab") as f:
            f.write(line)
        self.count += 1


class MemoryDeadLetters:
    """Keeps records in a list: for tests and for trees built in Python without a file."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.count = 0

    def put(self, path: str, items: Sequence[Any], error: BaseException, attempts: int) -> None:
        self.records.append(orjson.loads(_record(path, items, error, attempts)))
        self.count += 1
