"""Column types per store, and the DDL that created schema version 1.

The migration files under ``migrations/`` are the source of truth once written (version 1
was rendered from ``_schema.py`` by :func:`postgres_tables` and :func:`clickhouse_tables`);
a later change to a table is a new numbered file, never an edit. The type maps are used at
run time too (the PostgreSQL staging tables).
"""

from __future__ import annotations

from mdp.sinks._decimals import PRECISION, SCALE
from mdp.sinks._schema import TABLES, Column, Table

__all__ = ["clickhouse_tables", "pg_type", "postgres_tables"]

_PG = {
    "lc": "text",
    "text": "text",
    "int": "bigint",
    "ns": "bigint",
    "level": "smallint",
    "dec": "numeric",
    "decs": "numeric[]",
    "bool": "boolean",
}
_DEC = f"Decimal({PRECISION}, {SCALE})"
_CH = {
    "lc": "LowCardinality(String)",
    "text": "String",
    "int": "Int64",
    "ns": "Int64",
    "level": "UInt8",
    "dec": _DEC,
    "decs": f"Array({_DEC})",
    "bool": "Bool",
}


def pg_type(column: Column) -> str:
    return _PG[column.type]


def _pg_column(column: Column) -> str:
    return f"{column.name} {pg_type(column)}{'' if column.nullable else ' NOT NULL'}"


def pg_key(table: Table) -> tuple[str, ...]:
    """The unique key in PostgreSQL: the natural key and ``time`` (a hypertable's unique
    indexes must hold its time column; ``time`` is a function of the row, so it changes
    nothing about which rows are duplicates). ``time`` goes right after the instrument, so
    the one index also answers "this symbol, this time range": a second index (TimescaleDB's
    default one on time) would cost every insert for little."""
    instrument, rest = table.natural_key[:3], table.natural_key[3:]
    return (*instrument, "time", *(c for c in rest if c != "time"))


def postgres_tables() -> str:
    parts = [
        "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS timescaledb;\n"
        "EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'no timescaledb: plain tables'; END $$;"
    ]
    for table in TABLES.values():
        columns = ",\n    ".join(
            [_pg_column(c) for c in table.columns] + ["time timestamptz NOT NULL"]
        )
        parts.append(f"CREATE TABLE {table.name} (\n    {columns}\n);")
        if table.version is not None:  # revised in place: ON CONFLICT needs the key
            key = ", ".join(pg_key(table))
            parts.append(f"CREATE UNIQUE INDEX {table.name}_key ON {table.name} ({key});")
        else:  # immutable rows: the sink's anti-join on the time window keeps them unique
            # A B-tree, not BRIN: new BRIN ranges stay unsummarized until a VACUUM, and an
            # unsummarized range always matches, so the anti-join would read the whole
            # day's fresh rows (measured: cost per row grew with the chunk).
            parts.append(f"CREATE INDEX {table.name}_time ON {table.name} (time);")
        parts.append(
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') "
            f"THEN PERFORM create_hypertable('{table.name}', 'time', "
            "chunk_time_interval => INTERVAL '1 day', create_default_indexes => false);\n"
            "END IF; END $$;"
        )
    return "\n\n".join(parts) + "\n"


def _ch_column(column: Column) -> str:
    kind = _CH[column.type]
    return f"{column.name} {f'Nullable({kind})' if column.nullable else kind}"


def clickhouse_tables() -> str:
    parts = []
    for table in TABLES.values():
        columns = ",\n    ".join(
            [_ch_column(c) for c in table.columns] + ["time DateTime64(9, 'UTC')"]
        )
        engine = f"ReplacingMergeTree({table.version or ''})"
        parts.append(
            f"CREATE TABLE IF NOT EXISTS {table.name} (\n    {columns}\n)\n"
            f"ENGINE = {engine}\nPARTITION BY toYYYYMM(time)\n"
            f"ORDER BY ({', '.join(table.natural_key)});"
        )
    return "\n\n".join(parts) + "\n"
