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
from mdp.instruments import InstrumentCache
from mdp.model import Instrument, QualityLevel, Reason, Record

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


class _Timing:
    """One instrument's tolerances, its exchange's skew estimate, and the batch so far."""

    __slots__ = ("ahead", "batch_min", "batch_receive", "estimate", "stale")

    def __init__(self, ahead: int, stale: int, estimate: _SkewEstimate) -> None:
        self.ahead = ahead
        self.stale = stale
        self.estimate = estimate
        self.batch_min: int | None = None
        self.batch_receive = 0


class ReceiveTimeStage:
    name: ClassVar[str] = "receive_time"

    def __init__(self, rules: RulesBook, *, clock: Callable[[], int] = time.time_ns) -> None:
        self.rules = rules
        self.clock = clock
        self.stats = StageStats()
        self._skew: dict[str, _SkewEstimate] = {}
        self._timings: InstrumentCache[_Timing] = InstrumentCache(self._timing)

    def _timing(self, instrument: Instrument) -> _Timing:
        rules = self.rules.for_instrument(instrument)
        estimate = self._skew.get(instrument.exchange)
        if estimate is None:
            estimate = self._skew[instrument.exchange] = _SkewEstimate(0)
        return _Timing(rules.ahead_tolerance_ms * _MS, rules.staleness_ms * _MS, estimate)

    def clock_skew_ns(self) -> dict[str, int]:
        """Estimated (our clock − exchange clock) per exchange, nanoseconds."""
        return {
            exchange: value
            for exchange, estimate in self._skew.items()
            if (value := estimate.value()) is not None
        }

    def process(self, batch: Sequence[Any]) -> tuple[list[Record], list[Rejection]]:
        out: list[Record] = []
        timings = self._timings
        touched: list[_Timing] = []
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
            entry = timings.get(id(instrument))
            timing = (
                entry[1]
                if entry is not None and entry[0] is instrument
                else timings.miss(instrument)
            )
            lag = receive - exchange_time
            if timing.batch_min is None:
                timing.batch_min = lag
                touched.append(timing)
            elif lag < timing.batch_min:
                timing.batch_min = lag
            timing.batch_receive = receive
            if -lag > timing.ahead:
                record = flag(
                    record, QualityLevel.SUSPICIOUS, Reason.EXCHANGE_TIME_AHEAD, self.stats
                )
            elif lag > timing.stale and (
                Reason.BACKFILLED not in record.quality.reasons  # late on purpose
            ):
                record = flag(
                    record, QualityLevel.SUSPICIOUS, Reason.EXCHANGE_TIME_STALE, self.stats
                )
            out.append(record)
        for timing in touched:  # the batch's smallest lag per instrument, once per batch
            timing.estimate.add(timing.batch_receive, timing.batch_min)  # type: ignore[arg-type]
            timing.batch_min = None
        self.stats.records_in += len(batch)
        self.stats.records_out += len(out)
        return out, []
