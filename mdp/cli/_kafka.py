"""``mdp kafka topics``: list the configured topics, or make the missing ones (``--ensure``).

The roles call the same :func:`mdp.bus.ensure_topics` at start, so running this by hand is
only needed to see what would be made or to make topics before any role runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from mdp.bus import bootstrap_servers, configured_topics, ensure_topics_sync, load_bus_config


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("kafka", help="Kafka administration (topics)")
    actions = parser.add_subparsers(dest="action", metavar="COMMAND", required=True)
    topics = actions.add_parser(
        "topics", help="list the configured topics; --ensure makes the missing ones"
    )
    topics.add_argument(
        "--config", default="etc/mdp/bus.toml", help="bus configuration (default: %(default)s)"
    )
    topics.add_argument(
        "--bootstrap", default="", help="host:port (default: $MDP_KAFKA_BOOTSTRAP, then the file)"
    )
    topics.add_argument(
        "--ensure", action="store_true", help="create missing topics with the configured settings"
    )
    topics.add_argument("--timeout", type=float, default=30.0, help="seconds (default: 30)")
    topics.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_bus_config(args.config)
    names = configured_topics(config.topics)
    if not args.ensure:
        for name in names:
            print(name)
        return 0
    bootstrap = bootstrap_servers(config, args.bootstrap)
    result = ensure_topics_sync(bootstrap, names, config.topics, timeout=args.timeout)
    for name in result.created:
        print(f"created  {name}")
    for name in result.existing:
        print(f"exists   {name}")
    t = config.topics
    print(
        f"{len(result.created)} created, {len(result.existing)} already there on {bootstrap} "
        f"({t.partitions} partition(s), replication {t.replication_factor}, "
        f"retention {t.retention_ms} ms)"
    )
    return 0
