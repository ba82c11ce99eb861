"""The public surface of mdp.sinks: what other layers may import. A change here is a change
they see."""

from __future__ import annotations

import mdp.sinks
from mdp._exceptions import MdpError
from mdp.model import Kind
from mdp.supervision import lookup


def test_public_names() -> None:
    assert set(mdp.sinks.__all__) == {
        "TABLES",
        "ClickHouseArgs",
        "ClickHouseSink",
        "Column",
        "Migration",
        "MigrationError",
        "ParquetArgs",
        "ParquetLake",
        "PostgresArgs",
        "PostgresSink",
        "Rejected",
        "RowRejected",
        "Sink",
        "SinkError",
        "SinkStats",
        "StoreUnavailable",
        "Table",
        "WriteResult",
        "connect_clickhouse",
        "migrate_clickhouse",
        "migrate_postgres",
        "migrations",
        "record_from_row",
        "run_sink",
    }


def test_errors_subclass_the_closest_builtin() -> None:
    assert issubclass(mdp.sinks.StoreUnavailable, ConnectionError)
    assert issubclass(mdp.sinks.StoreUnavailable, mdp.sinks.SinkError)
    assert issubclass(mdp.sinks.MigrationError, RuntimeError)
    assert issubclass(mdp.sinks.RowRejected, ValueError)
    for error in (mdp.sinks.SinkError, mdp.sinks.RowRejected):
        assert issubclass(error, MdpError)


def test_a_table_per_kind_and_the_components_registered() -> None:
    assert set(mdp.sinks.TABLES) == set(Kind)
    names = [t.name for t in mdp.sinks.TABLES.values()]
    assert len(set(names)) == len(names)
    for name in ("sink.postgres", "sink.clickhouse", "sink.parquet"):
        assert lookup(name).name == name


def test_every_sink_is_a_sink(tmp_path: object) -> None:
    sinks: list[mdp.sinks.Sink] = [
        mdp.sinks.PostgresSink("postgresql://mdp@127.0.0.1:1/mdp"),
        mdp.sinks.ClickHouseSink("chdb:///nonexistent"),
        mdp.sinks.ParquetLake("/nonexistent"),
    ]
    assert [s.name for s in sinks] == ["postgres", "clickhouse", "parquet"]
