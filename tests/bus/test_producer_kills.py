"""``bus.producer`` killed mid-stream through the control socket: the batches it had taken
and not seen acknowledged by the broker (up to ``in_flight`` of them) go to its next
instance, so the topics end up with every trade; what is there twice is only such
batches, whole and in order.

The producer also makes its topics at start (``ensure_topics = true``), as the roles do.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import trio

from mdp.bus import BusCollector, ConsumerConfig, open_kafka_consumer
from mdp.control import ControlClient
from mdp.supervision._notify import Notifier
from mdp.supervision._role import load_role
from mdp.supervision._runtime import RunningRole, run_role
from tests.bus.helpers import (
    KAFKA,
    Arrivals,
    drop_topics,
    per_symbol_count,
    symbols_file,
    trade_topics,
    unique_instruments,
    wait_until,
)

HERE = Path(__file__).parent
TOTAL = 150_000
KILLS = 6
INBOX_BATCH = 3000  # the producer's receive_batch in roles/publish.toml
IN_FLIGHT = 4  # and the batches it keeps on their way to the broker


@pytest.mark.slow
async def test_producer_killed_mid_stream_redelivers_its_batch_nothing_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MDP_KAFKA_BOOTSTRAP", KAFKA)
    instruments = unique_instruments(3)
    topics = trade_topics(instruments)
    (tmp_path / "symbols.toml").write_text(symbols_file(instruments))
    (tmp_path / "bus.toml").write_text(
        f'[topics]\nsymbols = "{tmp_path / "symbols.toml"}"\nkinds = ["trade"]\n'
        "retention_ms = 3600000\n[producer]\nrecords_per_message = 500\n"
    )
    text = (HERE / "roles" / "publish.toml").read_text()
    text = text.replace("@CONFIG@", str(tmp_path / "bus.toml"))
    text = text.replace("@EXCHANGE@", instruments[0].exchange)
    (tmp_path / "publish.toml").write_text(text)
    role = load_role(str(tmp_path / "publish.toml"))
    rng = random.Random(7)
    kills = 0
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
            producer = running.root.find("publish/producer")
            source = running.root.find("publish/source")
            assert producer is not None
            assert source is not None
            async with await ControlClient.connect(running.control_socket) as ctl:
                with trio.fail_after(120):
                    while kills < KILLS:
                        await trio.sleep(rng.uniform(0.1, 0.25))
                        await wait_until(lambda: producer.state == "running", 0.01)
                        await ctl.request("kill", "publish/producer")
                        kills += 1
                        await wait_until(lambda k=kills: producer.restarts >= k, 0.01)
                    await wait_until(lambda: producer.memo["stats"].records >= TOTAL)
                    channel = running.root.all_channels()[0]
                    await wait_until(lambda: source.memo["next"] == TOTAL and not channel.depth)
                    await wait_until(lambda: not producer.inboxes[0].in_flight)
                nodes = {n["path"]: n for n in (await ctl.request("tree"))["nodes"]}
                figures = {
                    sample.name: sample.value
                    for family in BusCollector(running.root, "publish").collect()
                    for sample in family.samples
                    if sample.labels["path"] == "publish/producer"
                }
                await ctl.request("stop")

        arrived = Arrivals()
        stats = producer.memo["stats"]
        with trio.fail_after(60):
            async with open_kafka_consumer(
                ConsumerConfig(), KAFKA, topics, group=f"readback-{instruments[0].exchange}"
            ) as consumer:
                while arrived.total < stats.records:
                    fetched = await consumer.receive()
                    arrived.add(fetched.records)
                    consumer.ack(fetched)
    finally:
        await trio.to_thread.run_sync(drop_topics, topics)

    redelivered = nodes["publish/producer"]["redelivered"]
    print(f"kills={kills} redelivered={redelivered} delivered={stats.records} {stats}")
    assert nodes["publish/producer"]["restarts"] >= KILLS
    for index, instrument in enumerate(instruments):
        expected = per_symbol_count(TOTAL, 3, index)
        ids = arrived.ids[instrument.symbol]
        assert sorted(set(ids)) == list(range(expected)), "nothing lost"
        for _, size in arrived.replays(instrument.symbol):  # and never a gap
            assert size <= IN_FLIGHT * INBOX_BATCH, "only redelivered batches come twice"
    assert arrived.total - TOTAL <= kills * IN_FLIGHT * INBOX_BATCH
    assert figures["mdp_bus_producer_records_total"] == stats.records  # /metrics sees it
    assert figures["mdp_bus_producer_delivery_errors_total"] == 0
