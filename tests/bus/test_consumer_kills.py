"""Consumers killed mid-stream through the control socket, on Kafka and on the in-process
bus: nothing is lost, and what comes twice is only the uncommitted tail of a killed
member, replayed in order. A consumer commits a fetch only once the sink has acknowledged
its records (``ack = "downstream"``), so the tail is what was in the channel or in the
sink's hands at the kill, plus the fetch the consumer held: it is read again by whoever
owns the partition next.

Two ``bus.consumer`` workers of one group feed a sink in a role run with ``run_role``;
the test produces while it kills them in turn with ``kill PATH`` on the control socket.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import trio

from mdp.bus import forget_memory_bus, load_bus_config, memory_bus, open_producer
from mdp.control import ControlClient
from mdp.supervision._notify import Notifier
from mdp.supervision._role import load_role
from mdp.supervision._runtime import RunningRole, run_role
from tests.bus.helpers import (
    KAFKA,
    Arrivals,
    drop_topics,
    make_topics,
    per_symbol_count,
    trade_topics,
    trades,
    unique_instruments,
    wait_until,
)

HERE = Path(__file__).parent
TOTAL = 150_000
BATCH = 1500
KILLS = 8
MEMORY_FETCH = 1000  # records per in-process fetch
KAFKA_FETCH = 10 * 100  # max_messages × records_per_message of tests/bus/bus.toml
# Not yet acknowledged by the sink at any moment: the channel (roles/consumers.toml), the
# sink's batch in hand, and the fetch a consumer holds.
UNACKNOWLEDGED = 4000 + 500


def _role_file(tmp_path: Path, transport: str, bus: str, topics: list[str], group: str) -> Path:
    text = (HERE / "roles" / "consumers.toml").read_text()
    for key, value in {
        "@TRANSPORT@": transport,
        "@BUS@": bus,
        "@TOPICS@": json.dumps(topics),
        "@GROUP@": group,
        "@CONFIG@": str(HERE / "bus.toml"),
    }.items():
        text = text.replace(key, value)
    path = tmp_path / "consumers.toml"
    path.write_text(text)
    return path


async def _wait_running(ctl: ControlClient, path: str, restarts: int) -> None:
    """Until the node at ``path`` has been restarted ``restarts`` times and runs again (a
    kill while the killed instance is still closing its consumer would hit that one)."""
    with trio.fail_after(30):
        while True:
            nodes = {n["path"]: n for n in (await ctl.request("tree"))["nodes"]}
            if nodes[path]["state"] == "running" and nodes[path]["restarts"] >= restarts:
                return
            await trio.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["kafka", "memory"])
async def test_consumers_killed_mid_stream_lose_nothing_and_repeat_only_the_tail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MDP_KAFKA_BOOTSTRAP", KAFKA)
    instruments = unique_instruments(3)
    topics = trade_topics(instruments)
    bus_name = f"kills-{instruments[0].exchange}"
    if transport == "kafka":
        await trio.to_thread.run_sync(make_topics, topics)
        fetch = KAFKA_FETCH
    else:
        memory_bus(bus_name, capacity=20_000, max_records=MEMORY_FETCH)
        fetch = MEMORY_FETCH
    role = load_role(str(_role_file(tmp_path, transport, bus_name, topics, bus_name)))
    config = load_bus_config(HERE / "bus.toml")
    rng = random.Random(20261201)
    kills = 0
    killed = {"consumers/consumer-a": 0, "consumers/consumer-b": 0}
    try:
        async with trio.open_nursery() as nursery:
            running: RunningRole = await nursery.start(
                lambda task_status: run_role(
                    role,
                    control_dir=tmp_path,
                    notifier=Notifier(""),
                    handle_signals=False,
                    task_status=task_status,
                )
            )
            sink = running.root.find("consumers/sink")
            assert sink is not None
            arrived: Arrivals = sink.memo.setdefault("arrived", Arrivals())
            async with await ControlClient.connect(running.control_socket) as ctl:
                # A backlog first (the slow sink keeps the consumers blocked on a full
                # channel with a fetch in hand), then kills while it is worked off.
                async with open_producer(config, transport=transport, bus=bus_name) as producer:
                    for first in range(0, TOTAL, BATCH):
                        await producer.send(trades(instruments, first, first + BATCH))
                with trio.fail_after(120):
                    while kills < KILLS and arrived.unique() < TOTAL * 0.95:
                        await trio.sleep(rng.uniform(0.1, 0.3))
                        target = f"consumers/{rng.choice(['consumer-a', 'consumer-b'])}"
                        await _wait_running(ctl, target, killed[target])
                        await ctl.request("kill", target)
                        killed[target] += 1
                        kills += 1
                    await wait_until(lambda: arrived.unique() >= TOTAL)
                for path, count in killed.items():
                    await _wait_running(ctl, path, count)
                nodes = {n["path"]: n for n in (await ctl.request("tree"))["nodes"]}
                await ctl.request("stop")
    finally:
        if transport == "kafka":
            await trio.to_thread.run_sync(drop_topics, topics)
        forget_memory_bus(bus_name)

    restarts = sum(nodes[f"consumers/consumer-{x}"]["restarts"] for x in "ab")
    print(f"{transport}: kills={kills} restarts={restarts} received={arrived.total}")
    assert kills >= KILLS // 2, "killed mid-stream, before 95% had arrived"
    assert restarts >= kills
    duplicates = arrived.total - TOTAL
    for index, instrument in enumerate(instruments):
        ids = arrived.ids[instrument.symbol]
        expected = per_symbol_count(TOTAL, 3, index)
        assert sorted(set(ids)) == list(range(expected)), "nothing lost"
        replays = arrived.replays(instrument.symbol)  # also checks there is never a gap
        print(f"  {instrument.symbol}: replays (from id, how many) {replays}")
        tail = UNACKNOWLEDGED + fetch
        assert all(size <= tail for _, size in replays), "only the uncommitted tail again"
        assert len(replays) <= 2 * kills
    assert duplicates <= 2 * kills * (UNACKNOWLEDGED + fetch)
