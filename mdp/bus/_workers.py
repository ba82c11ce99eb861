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
    args = { topics = ["^trade\\\\..*"], group = "sink" }

The producer takes its next batch only after every record of the previous one was
acknowledged by the broker: taking it is what acknowledges the previous one to the Inbox,
so a killed producer's unacknowledged batch goes to its next instance (at least once; a
batch the broker had in part comes twice). The consumer acknowledges a fetch once its
records are in the output channel, which the supervisor owns and which outlives both
workers; only acknowledged positions are committed, so a killed consumer's next instance
(or the group member that takes its partitions) repeats at most the uncommitted tail.
"""

from __future__ import annotations

from collections import deque

import attrs
import trio

from mdp.bus._config import bootstrap_servers, load_bus_config
from mdp.bus._interface import open_consumer, open_producer
from mdp.bus._stats import ConsumerStats, ProducerStats
from mdp.bus._topics import configured_topics, ensure_topics
from mdp.model import SourceStatus
from mdp.supervision import Context, component

__all__ = ["ConsumerArgs", "ProducerArgs"]


def _transport(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ("kafka", "memory"):
        raise ValueError(f"{attribute.name} must be 'kafka' or 'memory', not {value!r}")


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


_STATUS_KEPT = 100


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
        while True:
            batch = await inbox.receive_batch(args.batch)  # acknowledges the previous one
            await producer.send(batch)


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
        task_status.started()
        while True:
            fetched = await consumer.receive()
            await out.send_batch(fetched.records)  # all or nothing
            consumer.ack(fetched)  # no checkpoint between the send and the ack
            ctx.memo["assignment"] = sorted(consumer.assignment)
