"""A FIFO of items stored as chunks, so batches move without touching every item.

A channel carries batches on hot paths: a batch sent whole is kept as one chunk, and a
receiver asking for at least that many items gets the chunk itself back, with no per-item
work in Python. Single items are appended to the newest chunk while it is small.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["ChunkedBuffer"]

_SMALL = 128  # single items go into the newest chunk while it is shorter than this


class ChunkedBuffer:
    __slots__ = ("_chunks", "_head", "_len")

    def __init__(self) -> None:
        self._chunks: deque[list[Any]] = deque()
        self._head = 0  # items of _chunks[0] already taken
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def __iter__(self) -> Iterator[Any]:
        for i, chunk in enumerate(self._chunks):
            yield from (chunk[self._head :] if i == 0 else chunk)

    def append(self, item: Any) -> None:
        chunks = self._chunks
        if chunks and len(chunks[-1]) < _SMALL:
            chunks[-1].append(item)
        else:
            chunks.append([item])
        self._len += 1

    def extend(self, items: Iterable[Any]) -> int:
        """Add ``items`` as one chunk (a copy: the caller may reuse its list); returns how
        many were added."""
        chunk = list(items)
        if chunk:
            self._chunks.append(chunk)
            self._len += len(chunk)
        return len(chunk)

    def take(self, n: int) -> list[Any]:
        """Remove and return the oldest ``min(n, len)`` items."""
        chunks = self._chunks
        head = self._head
        first = chunks[0] if chunks else None
        if (
            first is not None
            and head == 0
            and len(first) <= n
            and (len(first) == n or len(chunks) == 1)
        ):
            chunks.popleft()  # the common case: one whole batch, handed over as it is
            self._len -= len(first)
            return first
        out: list[Any] = []
        while n > 0 and chunks:
            chunk = chunks[0]
            available = len(chunk) - head
            if available <= n:
                out.extend(chunk[head:] if head else chunk)
                chunks.popleft()
                head = 0
                n -= available
            else:
                out.extend(chunk[head : head + n])
                head += n
                n = 0
        self._head = head
        self._len -= len(out)
        return out

    def drop(self, n: int) -> None:
        """Remove the oldest ``n`` items (drop-oldest overflow)."""
        self.take(n)

    def push_front(self, items: list[Any]) -> None:
        """Put ``items`` back ahead of everything else."""
        if not items:
            return
        if self._head:
            self._chunks[0] = self._chunks[0][self._head :]
            self._head = 0
        self._chunks.appendleft(list(items))
        self._len += len(items)

    def clear(self) -> None:
        self._chunks.clear()
        self._head = 0
        self._len = 0
