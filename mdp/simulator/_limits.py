"""REST request weight: Binance's per-IP, per-minute budget, the 429 with Retry-After when
it is exceeded, and the 418 ban after repeated violations (sans-I/O; the caller passes the
clock, so tests can drive it with trio's MockClock)."""

from __future__ import annotations

import math
from collections import deque

import attrs

__all__ = ["Admission", "WeightLimiter"]


@attrs.frozen
class Admission:
    """The verdict on one request: ``status`` None means serve it."""

    status: int | None
    used: int
    retry_after: int = 0


class WeightLimiter:
    """Fixed windows of ``window_s`` (Binance counts per calendar minute)."""

    def __init__(self, limit: int, window_s: float, ban_after: int, ban_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self.ban_after = ban_after
        self.ban_s = ban_s
        self._window = -1
        self.used = 0
        self.violations = 0
        self.banned_until = 0.0
        self.forced: deque[int] = deque()  # statuses injected by a fault, served first

    def force(self, status: int, count: int) -> None:
        self.forced.extend([status] * count)

    def admit(self, weight: int, now: float) -> Admission:
        window = int(now // self.window_s)
        if window != self._window:
            if self._window >= 0 and window > self._window + 1:
                self.violations = 0  # a quiet window forgives earlier violations
            self._window, self.used = window, 0
        window_left = max(1, math.ceil((window + 1) * self.window_s - now))
        if self.forced:
            status = self.forced.popleft()
            retry = window_left if status == 429 else max(1, math.ceil(self.ban_s))
            return Admission(status, self.used, retry)
        if now < self.banned_until:
            return Admission(418, self.used, max(1, math.ceil(self.banned_until - now)))
        if self.used + weight > self.limit:
            self.violations += 1
            if self.violations > self.ban_after:
                self.banned_until = now + self.ban_s
                self.violations = 0
                return Admission(418, self.used, max(1, math.ceil(self.ban_s)))
            return Admission(429, self.used, window_left)
        self.used += weight
        return Admission(None, self.used)
