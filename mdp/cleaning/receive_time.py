"""Stage 5, receive timestamp: every record has a local receive time; exchange times too far
ahead of it or too far behind it are flagged; the clock skew to each exchange is measured.

Skew is estimated as the smallest (receive − exchange) seen per exchange in the current and
the previous window: the fastest message's latency is near zero, so that minimum tracks the
offset between the exchange's clock and ours (negative: the exchange's clock is ahead).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from mdp.cleaning._rules import RulesBook
from mdp.cleaning._stage import Rejection, StageStats, flag
from mdp.model import QualityLevel, Reason, Record

__all__ = ["ReceiveTimeStage"]

_MS = 1_000_000
SKEW_WINDOW_NS = 10_000_000_000


class _SkewEstimate:
    __slots__ = ("current", "previous", "window_start")

    def __init__(self, start: int) -> None:
        self.window_start = start
        self.current: int | None = None
        self.previous: int | None = None

    def add(self, receive: int, lag: int) -> None:
        if receive - self.window_start >= SKEW_WINDOW_NS:
            self.previous, self.current, self.window_start = self.current, None, receive
        if self.current is None or lag < self.current:
            self.current = lag

    def value(self) -> int | None:
        known = [v for v in (self.current, self.previous) if v is not None]
        return min(known) if known else None


class ReceiveTimeStage:
    name: ClassVar[str] = "receive_time"

    def __init__(self, rules: RulesBook, *, clock: Callable[[], int] = time.time_ns) -> None:
        self.rules = rules
        self.clock = clock
        self.stats = StageStats()
        self._skew: dict[str, _SkewEstimate] = {}

    def clock_skew_ns(self) -> dict[str, int]:
        """Estimated (our clock − exchange clock) per exchange, nanoseconds."""
        return {
            exchange: value
            for exchange, estimate in self._skew.items()
            if (value := estimate.value()) is not None
        }

    def process(self, batch: Sequence[Any]) -> tuple[list[Record], list[Rejection]]:
        out: list[Record] = []
        rules_for = self.rules.for_instrument
        skew = self._skew
        last_instrument = None
        estimate: _SkewEstimate | None = None
        ahead = stale = 0
        # The smallest lag of the current run of one instrument, given to its exchange's
        # estimate when the run ends (per run, not per record).
        run_min: int | None = None
        run_receive = 0
        for record in batch:
            receive = record.receive_time_ns
            if not receive:
                record = flag(
                    record,
                    QualityLevel.REPAIRED,
                    Reason.RECEIVE_TIME_FILLED,
                    self.stats,
                    receive_time_ns=self.clock(),
                )
                receive = record.receive_time_ns
            exchange_time = record.exchange_time_ns
            if exchange_time is None:
                out.append(record)
                continue
            instrument = record.instrument
            if instrument is not last_instrument:  # batches mostly hold one instrument
                if estimate is not None and run_min is not None:
                    estimate.add(run_receive, run_min)
                run_min = None
                last_instrument = instrument
                rules = rules_for(instrument)
                ahead, stale = rules.ahead_tolerance_ms * _MS, rules.staleness_ms * _MS
                estimate = skew.get(instrument.exchange)
                if estimate is None:
                    estimate = skew[instrument.exchange] = _SkewEstimate(receive)
            lag = receive - exchange_time
            if run_min is None or lag < run_min:
                run_min = lag
            run_receive = receive
            if -lag > ahead:
                record = flag(
                    record, QualityLevel.SUSPICIOUS, Reason.EXCHANGE_TIME_AHEAD, self.stats
                )
            elif lag > stale and (
                Reason.BACKFILLED not in record.quality.reasons  # late on purpose
            ):
                record = flag(
                    record, QualityLevel.SUSPICIOUS, Reason.EXCHANGE_TIME_STALE, self.stats
                )
            out.append(record)
        if estimate is not None and run_min is not None:
            estimate.add(run_receive, run_min)
        self.stats.records_in += len(batch)
        self.stats.records_out += len(out)
        return out, []
