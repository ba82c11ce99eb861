"""The bus as supervised workers: ``bus.producer`` and ``bus.consumer`` in a role file.

    [[supervisor.children]]
    name = "publish"
    component = "bus.producer"
    inputs = ["clean"]
    outputs = ["status"]     # optional: SourceStatus events about delivery problems
    args = { config = "etc/mdp/bus.toml", batch = 10000 }

    [[supervisor.children]]
    name = "consume"
    component = "bus.consumer"
    outputs = ["records"]
    args = { topics = ["^trade\\\\..*"], group = "sink" }   # deliver = "columns" for a sink

The producer keeps up to ``in_flight`` batches on their way to the broker (see
``_pipeline.py``) and acknowledges them to the Inbox in order, each once the broker has all
of it: a killed producer's unacknowledged batches go to its next instance (at least once;
a batch the broker had in part comes twice). ``in_flight = 1`` takes the next batch only
once the previous one is acknowledged.

The consumer commits a fetch only once downstream acknowledged it (``ack = "downstream"``,
the default): the workers reading its output channel have taken its records and asked for
their next batch (see ``_downstream.py``). Offsets are then committed only after the sink
wrote, as ARCHITECTURE.md asks, and a crash of the whole process repeats what was in the
channel instead of losing it. ``ack = "channel"`` commits once the records are in the
channel (which the supervisor owns and which outlives both workers, but not the process).
"""

from __future__ import annotations

from collections import deque
from functools import partial

import attrs
import trio

from mdp.bus._config import bootstrap_servers, load_bus_config
from mdp.bus._consumer import KafkaConsumer
from mdp.bus._downstream import DownstreamAcks
from mdp.bus._interface import open_consumer, open_producer
from mdp.bus._pipeline import publish_pipelined
from mdp.bus._stats import ConsumerStats, ProducerStats
from mdp.bus._topics import configured_topics, ensure_topics
from mdp.model import SourceStatus
from mdp.supervision import Context, component

__all__ = ["ConsumerArgs", "ProducerArgs"]


def _transport(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ("kafka", "memory"):
        raise ValueError(f"{attribute.name} must be 'kafka' or 'memory', not {value!r}")


def _ack_mode(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ("downstream", "channel"):
        raise ValueError(f"{attribute.name} must be 'downstream' or 'channel', not {value!r}")


def _deliver_mode(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ("records", "columns"):
        raise ValueError(f"{attribute.name} must be 'records' or 'columns', not {value!r}")


def _positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1, got {value!r}")


@attrs.frozen(kw_only=True)
class ProducerArgs:
    config: str = "etc/mdp/bus.toml"  # "" for the built-in defaults
    transport: str = attrs.field(default="kafka", validator=_transport)
    bootstrap: str = ""  # overrides the file and $MDP_KAFKA_BOOTSTRAP
    bus: str = "default"  # the in-process bus's name (transport = "memory")
    batch: int = attrs.field(default=10_000, validator=_positive)  # records per receive
    # Batches handed to the broker and not yet acknowledged, at most: with more than one,
    # the next batch goes out while the broker acknowledges the ones before. 1 measured
    # better on a loopback broker (docs/benchmarks.md, "Batches in flight"); more suits a
    # broker a round trip of milliseconds away.
    in_flight: int = attrs.field(default=1, validator=_positive)
    # Make the configured topics (kinds × the symbols file) before the first send, as
    # `mdp kafka topics --ensure` does; an instance restart does it again (it is cheap).
    ensure_topics: bool = False


@attrs.frozen(kw_only=True)
class ConsumerArgs:
    topics: tuple[str, ...] = ("^trade\\..*",)  # names, or ^regular expressions
    group: str = ""  # "" for the file's consumer.group
    config: str = "etc/mdp/bus.toml"
    transport: str = attrs.field(default="kafka", validator=_transport)
    bootstrap: str = ""
    bus: str = "default"
    # When a fetch counts as done (and may be committed): "downstream" once the workers
    # reading the output channel have acknowledged its records, "channel" once it is in
    # the channel (which survives restarts, but not the process).
    ack: str = attrs.field(default="downstream", validator=_ack_mode)
    # What goes into the output channel: "records", or "columns" for a sink — a Kafka
    # message of trades goes as one ColumnBatch (one item however many rows it holds; size
    # the sink's flush_rows/max_rows in messages), other kinds still as records. The
    # in-process bus has no wire bytes and always delivers records.
    deliver: str = attrs.field(default="records", validator=_deliver_mode)


_STATUS_KEPT = 100
_SETTLE_INTERVAL = 0.02  # seconds between looks at downstream's progress


@component("bus.producer", args=ProducerArgs)
async def producer_worker(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    args: ProducerArgs = ctx.args
    config = load_bus_config(args.config)
    stats: ProducerStats = ctx.memo.setdefault("stats", ProducerStats())
    recent: deque[SourceStatus] = ctx.memo.setdefault("statuses", deque(maxlen=_STATUS_KEPT))
    inbox = ctx.inputs[0]
    status_out = ctx.outputs[0] if ctx.outputs else None
    if args.ensure_topics and args.transport == "kafka":
        names = configured_topics(config.topics)
        await ensure_topics(bootstrap_servers(config, args.bootstrap), names, config.topics)

    def on_status(status: SourceStatus) -> None:
        recent.append(status)
        if status_out is not None:
            try:
                status_out.send_nowait(status)  # a live view: give the edge drop_oldest
            except trio.WouldBlock:
                ctx.memo["statuses_dropped"] = ctx.memo.get("statuses_dropped", 0) + 1

    async with open_producer(
        config,
        transport=args.transport,
        bootstrap=args.bootstrap,
        bus=args.bus,
        stats=stats,
        on_status=on_status,
    ) as producer:
        task_status.started()
        await publish_pipelined(
            producer,
            partial(inbox.receive_more, args.batch),
            inbox.done_oldest,
            in_flight=args.in_flight,
        )


@component("bus.consumer", args=ConsumerArgs)
async def consumer_worker(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    args: ConsumerArgs = ctx.args
    config = load_bus_config(args.config)
    stats: ConsumerStats = ctx.memo.setdefault("stats", ConsumerStats())
    out = ctx.outputs[0]
    async with open_consumer(
        config,
        args.topics,
        transport=args.transport,
        bootstrap=args.bootstrap,
        bus=args.bus,
        group=args.group,
        dead_letters=ctx.supervisor.dead_letters,
        path=ctx.path,
        stats=stats,
    ) as consumer:
        if isinstance(consumer, KafkaConsumer):
            consumer.deliver = args.deliver
        if args.ack == "channel":
            task_status.started()
            while True:
                fetched = await consumer.receive()
                await out.send_batch(fetched.items)  # all or nothing
                consumer.ack(fetched)  # no checkpoint between the send and the ack
                ctx.memo["assignment"] = sorted(consumer.assignment)
        acks = DownstreamAcks(ctx, out)

        def settle() -> None:
            for done in acks.settled():
                consumer.ack(done)

        async def settle_forever() -> None:
            while True:
                settle()
                await trio.sleep(_SETTLE_INTERVAL)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(settle_forever)
            task_status.started()
            while True:
                fetched = await consumer.receive()
                await out.send_batch(fetched.items)  # all or nothing
                acks.sent(fetched)  # no checkpoint between the send and this
                settle()
                ctx.memo["assignment"] = sorted(consumer.assignment)
                ctx.memo["unacknowledged"] = len(acks)
