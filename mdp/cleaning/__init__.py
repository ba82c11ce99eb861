"""The cleaning pipeline: six stages in a fixed order, each a pure function of a batch and
a small per-instrument state.

1 structure · 2 validity · 3 symbols · 4 precision · 5 receive time · 6 anomalies
"""

from mdp.cleaning._pipeline import STAGE_ORDER, Pipeline, build_stages
from mdp.cleaning._rules import CleaningConfig, OffIncrement, Rules, RulesBook, load_rules
from mdp.cleaning._stage import Rejection, Stage, StageStats
from mdp.cleaning.anomalies import AnomalyStage
from mdp.cleaning.precision import PrecisionStage
from mdp.cleaning.receive_time import ReceiveTimeStage
from mdp.cleaning.structure import StructureStage
from mdp.cleaning.symbols import SymbolStage
from mdp.cleaning.validity import ValidityStage

__all__ = [
    "STAGE_ORDER",
    "AnomalyStage",
    "CleaningConfig",
    "OffIncrement",
    "Pipeline",
    "PrecisionStage",
    "ReceiveTimeStage",
    "Rejection",
    "Rules",
    "RulesBook",
    "Stage",
    "StageStats",
    "StructureStage",
    "SymbolStage",
    "ValidityStage",
    "build_stages",
    "load_rules",
]
