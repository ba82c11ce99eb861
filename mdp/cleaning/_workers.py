"""The cleaning stages as supervised workers: ``cleaning.stage`` in a role file.

    [[supervisor.children]]
    name = "validity"
    component = "cleaning.stage"
    inputs = ["structured"]
    outputs = ["valid"]
    args = { stage = "validity", rules = "etc/mdp/cleaning.toml" }

Each instance builds its stage afresh, so a restarted stage starts from empty per-symbol
state and rebuilds it from the records that follow; the counters live in the node's memo
and survive. Order of work per batch: process (synchronous), send the records on (all or
nothing), then write the batch's dead letters and only then take the next batch, which
acknowledges this one. A kill before the send redelivers the batch to the next instance;
a kill after it cannot happen before the acknowledgement, so nothing is lost and nothing
is sent or dead-lettered twice.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import trio

from mdp._exceptions import MdpError
from mdp.cleaning._metrics import CleaningCollector
from mdp.cleaning._pipeline import STAGE_ORDER
from mdp.cleaning._rules import RulesBook, load_rules
from mdp.cleaning._stage import Rejection, Stage, StageStats
from mdp.cleaning.anomalies import AnomalyStage
from mdp.cleaning.precision import PrecisionStage
from mdp.cleaning.receive_time import ReceiveTimeStage
from mdp.cleaning.structure import StructureStage
from mdp.cleaning.symbols import SymbolStage
from mdp.cleaning.validity import ValidityStage
from mdp.instruments import LIVE, InstrumentRegistry, load_symbols
from mdp.metrics import register_collector
from mdp.supervision import Context, component

__all__ = ["RecordRejected", "StageWorkerArgs"]


def _known_stage(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in STAGE_ORDER:
        raise ValueError(f"stage must be one of {', '.join(STAGE_ORDER)}, not {value!r}")


@attrs.frozen(kw_only=True)
class StageWorkerArgs:
    stage: str = attrs.field(validator=_known_stage)
    rules: str = "etc/mdp/cleaning.toml"  # "" for the built-in defaults
    # A symbols file, or "live" for the instruments the collectors of the same process
    # learned from their exchanges (roles `collector` and `all`; "live:binance" and
    # "live:okx" say the same).
    symbols: str = "etc/mdp/symbols.toml"
    batch: int = 500  # records taken at most per receive

    def __attrs_post_init__(self) -> None:
        # Read (and so validate) the stage's files now: `mdp run --check` then reports a
        # bad rules or symbols file, rather than the worker failing to start.
        if self.stage == "symbols":
            _registry(self.symbols)
        elif self.stage != "structure":
            _rules_book(self.rules)


class RecordRejected(MdpError, ValueError):
    """Why a cleaning stage sent a record to the dead letters (it is not raised: it is
    what the dead-letter entry says)."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(f"{rejection.stage}: {rejection.reason.value}: {rejection.detail}")
        self.rejection = rejection


# Files are read once per process: restarts must be quick, and the files do not change
# under a running role.
_rules: dict[str, RulesBook] = {}
_LIVE_NAMES = ("live", "live:binance", "live:okx")
_registries: dict[str, InstrumentRegistry] = {}


def _rules_book(path: str) -> RulesBook:
    if path not in _rules:
        _rules[path] = load_rules(Path(path)) if path else RulesBook()
    return _rules[path]


def _registry(path: str) -> InstrumentRegistry:
    if path in _LIVE_NAMES:
        return LIVE
    if path not in _registries:
        _registries[path] = load_symbols(Path(path))
    return _registries[path]


def build_stage(args: StageWorkerArgs) -> Stage:
    name = args.stage
    if name == "structure":
        return StructureStage()
    if name == "symbols":
        return SymbolStage(_registry(args.symbols))
    rules = _rules_book(args.rules)
    if name == "validity":
        return ValidityStage(rules)
    if name == "precision":
        return PrecisionStage(rules)
    if name == "receive_time":
        return ReceiveTimeStage(rules)
    return AnomalyStage(rules)


@component("cleaning.stage", args=StageWorkerArgs)
async def stage_worker(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    args: StageWorkerArgs = ctx.args
    stage = build_stage(args)
    stage.stats = ctx.memo.setdefault("stats", StageStats())
    inbox, out = ctx.inputs[0], ctx.outputs[0]
    dead_letters = ctx.supervisor.dead_letters
    task_status.started()
    while True:
        batch = await inbox.receive_batch(args.batch)
        records, rejected = stage.process(batch)
        await out.send_batch(records)
        for rejection in rejected:
            dead_letters.put(ctx.path, [rejection.record], RecordRejected(rejection), 0)
        if isinstance(stage, ReceiveTimeStage):
            ctx.memo["clock_skew_ns"] = stage.clock_skew_ns()


register_collector(CleaningCollector)
