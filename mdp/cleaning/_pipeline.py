"""The six stages in their fixed order, run one after the other on a batch.

In a role each stage is its own supervised worker linked by bounded channels; this class
is the same chain in one call, for tests, benchmarks and tools.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mdp.cleaning._rules import RulesBook
from mdp.cleaning._stage import Rejection, Stage
from mdp.cleaning.anomalies import AnomalyStage
from mdp.cleaning.precision import PrecisionStage
from mdp.cleaning.receive_time import ReceiveTimeStage
from mdp.cleaning.structure import StructureStage
from mdp.cleaning.symbols import SymbolStage
from mdp.cleaning.validity import ValidityStage
from mdp.instruments import InstrumentRegistry
from mdp.model import Record

__all__ = ["STAGE_ORDER", "Pipeline", "build_stages"]

STAGE_ORDER = ("structure", "validity", "symbols", "precision", "receive_time", "anomalies")


def build_stages(
    registry: InstrumentRegistry, rules: RulesBook, *, clock: Callable[[], int] | None = None
) -> list[Stage]:
    receive = ReceiveTimeStage(rules) if clock is None else ReceiveTimeStage(rules, clock=clock)
    stages: list[Stage] = [
        StructureStage(),
        ValidityStage(rules),
        SymbolStage(registry),
        PrecisionStage(rules),
        receive,
        AnomalyStage(rules),
    ]
    assert tuple(stage.name for stage in stages) == STAGE_ORDER
    return stages


class Pipeline:
    def __init__(
        self,
        registry: InstrumentRegistry,
        rules: RulesBook | None = None,
        *,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.stages = build_stages(registry, rules or RulesBook(), clock=clock)

    def process(self, batch: Sequence[Any]) -> tuple[list[Record], list[Rejection]]:
        records: Sequence[Any] = batch
        rejected: list[Rejection] = []
        for stage in self.stages:
            records, dead = stage.process(records)
            rejected.extend(dead)
        return list(records), rejected
