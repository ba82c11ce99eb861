"""Shared timing helper for the benchmarks: medians over repeated runs, since the machines
these run on are shared and noisy."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def per_call_ns(
    fn: Callable[[], object], *, items: int = 1, repeat: int = 15, min_s: float = 0.2
) -> float:
    """Median nanoseconds per item of ``fn()`` (which handles ``items`` items per call)."""
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        if time.perf_counter() - start >= min_s / 4:
            break
        loops *= 2
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter_ns() - start) / (loops * items))
    return statistics.median(samples)
