"""``mdp db migrate`` / ``mdp db status`` against the real servers; the schema versions."""

from __future__ import annotations

import psycopg
import pytest

from mdp.cli import main
from mdp.sinks import TABLES, connect_clickhouse, migrations


def test_each_store_has_numbered_migrations_starting_at_1() -> None:
    for store in ("postgres", "clickhouse"):
        versions = [m.version for m in migrations(store)]
        assert versions == list(range(1, len(versions) + 1)), store


def test_migrate_applies_once_and_status_tells(
    pg_dsn: str, ch_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "status", "--postgres", pg_dsn]) == 1  # nothing applied yet
    assert main(["db", "migrate", "--postgres", pg_dsn, "--clickhouse", ch_dsn]) == 0
    assert main(["db", "migrate", "--postgres", pg_dsn, "--clickhouse", ch_dsn]) == 0
    assert main(["db", "status", "--postgres", pg_dsn, "--clickhouse", ch_dsn]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "postgres: version 0 of 1"
    assert out[1] == "postgres: at version 1; applied [1]"
    assert out[3] == "postgres: at version 1; applied nothing"
    assert out[4] == "clickhouse: at version 1; applied nothing"
    assert out[5:] == ["postgres: version 1 of 1", "clickhouse: version 1 of 1"]
    with psycopg.connect(pg_dsn) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()
        assert schema is not None
        hypertables = {
            row[0]
            for row in conn.execute(
                "SELECT hypertable_name FROM timescaledb_information.hypertables "
                "WHERE hypertable_schema = %s",
                (schema[0],),
            )
        }
        versions = conn.execute("SELECT version FROM mdp_schema_version").fetchall()
    assert hypertables == {t.name for t in TABLES.values()}
    assert versions == [(1,)]
    client = connect_clickhouse(ch_dsn)
    try:
        engines = dict(
            client.query(
                "SELECT name, engine FROM system.tables WHERE database = currentDatabase()"
            ).result_rows
        )
    finally:
        client.close()
    assert all(engines[t.name] == "ReplacingMergeTree" for t in TABLES.values())


def test_a_store_that_cannot_be_reached_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    dsn = "postgresql://mdp@127.0.0.1:1/mdp"  # nothing listens on port 1
    assert main(["db", "migrate", "--postgres", dsn]) == 2
    assert "PostgreSQL at postgresql://mdp@127.0.0.1:1/mdp cannot be reached" in (
        capsys.readouterr().err
    )
