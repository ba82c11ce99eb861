"""Per-connection frame faults (drop, duplicate, reorder, malformed), sans-I/O.

A connection with no pending fault takes the fast path and never calls into this module;
with one, each outgoing batch is passed through :meth:`FrameFaults.apply`, which counts
down each fault over the frames it matches and keeps at most one frame held back for a
reorder, so the state stays bounded.
"""

from __future__ import annotations

import attrs

from mdp.simulator._config import FaultKind

__all__ = ["FRAME_FAULTS", "FrameFaults"]

FRAME_FAULTS = frozenset(
    {FaultKind.DROP, FaultKind.DUPLICATE, FaultKind.REORDER, FaultKind.MALFORMED}
)

Out = tuple[str, bytes]


@attrs.define
class _Pending:
    kind: FaultKind
    remaining: int
    stream: str | None


class FrameFaults:
    """The frame faults queued on one connection, applied in the order given."""

    def __init__(self) -> None:
        self._pending: list[_Pending] = []
        self._held: tuple[Out, str | None] | None = None
        self.applied: dict[str, int] = {}

    def __bool__(self) -> bool:
        return bool(self._pending) or self._held is not None

    def add(self, kind: FaultKind, count: int, stream: str | None) -> None:
        if kind not in FRAME_FAULTS:
            raise ValueError(f"{kind.value} is not a frame fault")
        if count:
            self._pending.append(_Pending(kind, count, stream))

    def _note(self, kind: FaultKind) -> None:
        self.applied[kind.value] = self.applied.get(kind.value, 0) + 1

    def apply(self, frames: list[Out]) -> list[Out]:
        """The frames to send instead of ``frames`` (data frames: stream, payload)."""
        out: list[Out] = []
        for frame in frames:
            if self._held is not None:
                held, wanted = self._held
                out.append(frame)
                if wanted is None or frame[0] == wanted:
                    out.append(held)  # the swap: the later frame went first
                    self._held = None
                continue
            fault = next(
                (p for p in self._pending if p.stream is None or p.stream == frame[0]), None
            )
            if fault is None:
                out.append(frame)
                continue
            fault.remaining -= 1
            if not fault.remaining:
                self._pending.remove(fault)
            self._note(fault.kind)
            if fault.kind is FaultKind.DUPLICATE:
                out += (frame, frame)
            elif fault.kind is FaultKind.MALFORMED:
                out.append((frame[0], frame[1][: max(1, len(frame[1]) // 2)]))
            elif fault.kind is FaultKind.REORDER:
                self._held = (frame, fault.stream)
            # DROP: nothing goes out
        return out
