"""``mdp db migrate``: bring the stores' schemas up to date (the sinks also do it at start).

    mdp db migrate --postgres postgresql://mdp@127.0.0.1:5432/mdp
    mdp db migrate --clickhouse chdb:///var/lib/mdp/chdb     # or http://127.0.0.1:8123
    mdp db status  --postgres ... --clickhouse ...

With neither option, the DSNs come from ``MDP_PG_DSN`` and ``MDP_CLICKHOUSE_DSN``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import psycopg

from mdp.sinks import (
    StoreUnavailable,
    connect_clickhouse,
    migrate_clickhouse,
    migrate_postgres,
    migrations,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="store schemas: migrate, status")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, handler, text in [
        ("migrate", run_migrate, "apply the schema migrations a store is missing"),
        ("status", run_status, "print each store's schema version"),
    ]:
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument("--postgres", metavar="DSN", help="PostgreSQL/TimescaleDB DSN")
        action.add_argument("--clickhouse", metavar="DSN", help="chdb://DIR or http(s)://URL")
        action.set_defaults(handler=handler)


def _targets(args: argparse.Namespace) -> tuple[str | None, str | None]:
    if args.postgres is None and args.clickhouse is None:
        return os.environ.get("MDP_PG_DSN"), os.environ.get("MDP_CLICKHOUSE_DSN")
    return args.postgres, args.clickhouse


def _pg(dsn: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise StoreUnavailable(f"PostgreSQL at {dsn} cannot be reached: {exc}") from exc


def _latest(store: str) -> int:
    return max((m.version for m in migrations(store)), default=0)


def run_migrate(args: argparse.Namespace) -> int:
    postgres, clickhouse = _targets(args)
    if postgres is None and clickhouse is None:
        print("mdp db migrate: name a store (--postgres, --clickhouse) or set MDP_PG_DSN")
        return 2
    if postgres:
        with _pg(postgres) as conn:
            applied = migrate_postgres(conn)
        print(f"postgres: at version {_latest('postgres')}; applied {applied or 'nothing'}")
    if clickhouse:
        client = connect_clickhouse(clickhouse)
        try:
            applied = migrate_clickhouse(client)
        finally:
            client.close()
        print(f"clickhouse: at version {_latest('clickhouse')}; applied {applied or 'nothing'}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    postgres, clickhouse = _targets(args)
    behind = False
    if postgres:
        with _pg(postgres) as conn:
            exists = conn.execute("SELECT to_regclass('mdp_schema_version')").fetchone()
            row = (
                conn.execute("SELECT max(version) FROM mdp_schema_version").fetchone()
                if exists and exists[0]
                else None
            )
        version = row[0] if row and row[0] is not None else 0
        behind |= version < _latest("postgres")
        print(f"postgres: version {version} of {_latest('postgres')}")
    if clickhouse:
        client = connect_clickhouse(clickhouse)
        try:
            found = client.query("EXISTS TABLE mdp_schema_version").result_rows[0][0]
            version = (
                client.query("SELECT max(version) FROM mdp_schema_version").result_rows[0][0]
                if found
                else 0
            )
        finally:
            client.close()
        behind |= version < _latest("clickhouse")
        print(f"clickhouse: version {version} of {_latest('clickhouse')}")
    return 1 if behind else 0
