"""Versioned schema migrations: numbered SQL files per store, applied once each, in order.

``migrations/<store>/NNNN_name.sql``; the store's ``mdp_schema_version`` table lists the
versions applied. PostgreSQL applies each file in one transaction under an advisory lock,
so two sinks starting together cannot both apply it. ClickHouse has no transactions: its
files use ``IF NOT EXISTS`` so a run interrupted half way can simply run again.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import attrs

from mdp.sinks._errors import MigrationError

__all__ = ["Migration", "migrate_clickhouse", "migrate_postgres", "migrations"]

_LOCK_ID = 0x6D6470  # "mdp": the advisory lock migrations hold


@attrs.frozen
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """The file's statements, for stores that take one at a time (comments dropped)."""
        text = "\n".join(line for line in self.sql.splitlines() if not line.startswith("--"))
        return [s.strip() for s in text.split(";\n") if s.strip().rstrip(";")]


def migrations(store: str) -> list[Migration]:
    """The migrations of ``store`` ("postgres" or "clickhouse"), oldest first."""
    found = []
    for entry in resources.files("mdp.sinks").joinpath("migrations").joinpath(store).iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text()))
    return sorted(found, key=lambda m: m.version)


def migrate_postgres(conn: Any) -> list[int]:
    """Apply what is missing on a psycopg connection; returns the versions applied."""
    applied = []
    with conn.transaction():
        conn.execute(
            "CREATE TABLE IF NOT EXISTS mdp_schema_version (version integer PRIMARY KEY, "
            "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
    for migration in migrations("postgres"):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            done = conn.execute(
                "SELECT 1 FROM mdp_schema_version WHERE version = %s", (migration.version,)
            ).fetchone()
            if done:
                continue
            try:
                conn.execute(migration.sql)
            except Exception as exc:
                if type(exc).__module__.startswith("psycopg.errors"):
                    raise MigrationError(
                        f"PostgreSQL migration {migration.version} ({migration.name}) failed: {exc}"
                    ) from exc
                raise
            conn.execute(
                "INSERT INTO mdp_schema_version (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(migration.version)
    return applied


def migrate_clickhouse(client: Any) -> list[int]:
    """Apply what is missing through a clickhouse-connect client; the versions applied."""
    client.command(
        "CREATE TABLE IF NOT EXISTS mdp_schema_version (version UInt32, name String, "
        "applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY version"
    )
    done = {row[0] for row in client.query("SELECT version FROM mdp_schema_version").result_rows}
    applied = []
    for migration in migrations("clickhouse"):
        if migration.version in done:
            continue
        for statement in migration.statements():
            try:
                client.command(statement)
            except Exception as exc:
                raise MigrationError(
                    f"ClickHouse migration {migration.version} ({migration.name}) failed: {exc}"
                ) from exc
        client.insert(
            "mdp_schema_version",
            [[migration.version, migration.name]],
            column_names=["version", "name"],
        )
        applied.append(migration.version)
    return applied
