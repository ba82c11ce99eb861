"""Property: for any (seeded) schedule of faults, the collected OKX trades equal the
simulator's ground truth exactly and no rebuilt book is ever crossed."""

from __future__ import annotations

import os

import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdp.simulator import Fault, FaultKind
from mdp.simulator.okx import OkxSimulator
from tests.exchanges.okx._harness import SPOT, sim_config, start

SYMBOLS = [SPOT, "ETH-USDT"]
STREAMS = [None, "trades:BTC-USDT", "trades:ETH-USDT", "books:BTC-USDT"]

frame_faults = st.builds(
    Fault,
    kind=st.sampled_from(
        [FaultKind.DROP, FaultKind.DUPLICATE, FaultKind.REORDER, FaultKind.MALFORMED]
    ),
    count=st.integers(1, 20),
    stream=st.sampled_from(STREAMS),
)
connection_faults = st.one_of(
    st.builds(Fault, kind=st.just(FaultKind.DISCONNECT), abrupt=st.booleans()),
    st.builds(Fault, kind=st.just(FaultKind.STALL), seconds=st.sampled_from([0.1, 0.3])),
    st.builds(Fault, kind=st.just(FaultKind.SERVER_SHUTDOWN), seconds=st.just(0.2)),
    st.builds(Fault, kind=st.just(FaultKind.HTTP_429), count=st.just(1)),
)
schedules = st.lists(
    st.tuples(st.sampled_from([0.05, 0.15, 0.3]), frame_faults | connection_faults),
    min_size=1,
    max_size=4,
)


async def _run(schedule: list[tuple[float, Fault]]) -> None:
    async with trio.open_nursery() as nursery:
        h = await start(nursery, OkxSimulator(sim_config(symbols=SYMBOLS)))
        await h.wait_for(lambda: all(len(h.trade_ids(s)) > 50 for s in SYMBOLS))
        for delay, fault in schedule:
            await trio.sleep(delay)
            h.sim.inject(fault)
        marks = {s: h.sim.trades(s)[-1].trade_id + 100 for s in SYMBOLS}
        await h.wait_for(lambda: all(h.max_id(s) >= marks[s] for s in SYMBOLS))
        await h.settle(SYMBOLS)
        for symbol in SYMBOLS:
            h.assert_trades_equal_truth(symbol)
        assert h.collected.crossed == 0
        nursery.cancel_scope.cancel()


@settings(
    max_examples=int(os.environ.get("MDP_PROPERTY_EXAMPLES", "3")),
    deadline=None,
    derandomize=not os.environ.get("MDP_PROPERTY_EXAMPLES"),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(schedules)
def test_any_fault_schedule_keeps_trades_equal_to_truth(
    schedule: list[tuple[float, Fault]],
) -> None:
    trio.run(_run, schedule)
