"""Reconnect delays: capped, jittered, exponential.

Exchanges count connection attempts per IP (Binance: 300 per 5 minutes), and many
collectors that lost their connections together must not all come back in the same
instant, so every delay is spread by ±``jitter`` and capped at ``max_s``. A connection
that stayed healthy for ``reset_after_s`` starts the sequence over.
"""

from __future__ import annotations

import random

import attrs

__all__ = ["ReconnectBackoff"]


@attrs.define
class ReconnectBackoff:
    initial_s: float = 0.05
    max_s: float = 30.0
    factor: float = 2.0
    jitter: float = 0.3
    reset_after_s: float = 30.0
    rng: random.Random = attrs.field(factory=random.Random, repr=False)
    attempt: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt (and count it)."""
        self.attempt += 1
        base = min(self.max_s, self.initial_s * self.factor ** min(self.attempt - 1, 60))
        return base * (1 + self.jitter * (2 * self.rng.random() - 1))

    def healthy_for(self, seconds: float) -> None:
        """Report how long the last connection stayed up; long enough resets the count."""
        if seconds >= self.reset_after_s:
            self.attempt = 0
