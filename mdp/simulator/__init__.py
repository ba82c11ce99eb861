"""A Binance exchange simulator on loopback: the real spot and USD-M futures wire protocols
(WebSocket streams and REST), a deterministic seeded market or a replayed capture,
injectable faults, and the ground truth a test compares a collector against.

    sim = Simulator(SimulatorConfig(symbols=["BTCUSDT"], rate=1000, seed=1))
    address = await nursery.start(sim.serve)
    ... connect to address.spot_ws + "/stream?streams=btcusdt@trade" ...
    sim.inject(Fault(FaultKind.DROP, count=3))
    assert collected == sim.trades("BTCUSDT")

See docs/simulator.md for the endpoints, the control API and the replay format.
"""

from mdp.simulator._config import (
    Fault,
    FaultKind,
    ReplayConfig,
    RestLimits,
    SimulatorConfig,
    load_config,
    load_faults,
)
from mdp.simulator._instruments import Market
from mdp.simulator._replay import record_capture
from mdp.simulator._simulator import Simulator, SimulatorAddress
from mdp.simulator._truth import TruthAggTrade, TruthBook, TruthTrade

__all__ = [
    "Fault",
    "FaultKind",
    "Market",
    "ReplayConfig",
    "RestLimits",
    "Simulator",
    "SimulatorAddress",
    "SimulatorConfig",
    "TruthAggTrade",
    "TruthBook",
    "TruthTrade",
    "load_config",
    "load_faults",
    "record_capture",
]
