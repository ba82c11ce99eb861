"""The OKX v5 public market-data simulator on loopback, beside the Binance one: the same
market model, fault kinds, replay format and ground truth, spoken as OKX speaks it
(``op`` subscribe, text ``ping``/``pong``, ``books`` with ``prevSeqId``/``seqId``,
heartbeats, resets and checksums, ``64008`` notices). See docs/okx.md.

    sim = OkxSimulator(OkxSimulatorConfig(symbols=["BTC-USDT", "BTC-USDT-SWAP"]))
    address = await nursery.start(sim.serve)   # address.ws, address.rest
    sim.inject(Fault(FaultKind.DROP, count=3, stream="trades:BTC-USDT"))
    assert collected == sim.trades("BTC-USDT")
"""

from mdp.simulator.okx._config import Checksum, OkxSimulatorConfig
from mdp.simulator.okx._replay import record_okx_capture
from mdp.simulator.okx._simulator import OkxAddress, OkxSimulator
from mdp.simulator.okx._truth import OkxTruthTrade

__all__ = [
    "Checksum",
    "OkxAddress",
    "OkxSimulator",
    "OkxSimulatorConfig",
    "OkxTruthTrade",
    "record_okx_capture",
]
