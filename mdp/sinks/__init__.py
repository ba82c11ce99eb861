"""Storage sinks: batch writers for PostgreSQL/TimescaleDB, ClickHouse and a Parquet lake,
behind one interface (:class:`Sink`), each runnable as a supervised worker
(``sink.postgres``, ``sink.clickhouse``, ``sink.parquet``: importing this package
registers them, so a role file names ``mdp.sinks`` in ``run.imports``). They take records,
or a consumer's column batches (``bus.consumer`` with ``deliver = "columns"``: a Kafka
message of trades as its wire columns, no record per trade). docs/storage.md has the
tables, keys and guarantees.
"""

from mdp.sinks._clickhouse import ClickHouseSink, connect_clickhouse
from mdp.sinks._errors import MigrationError, RowRejected, SinkError, StoreUnavailable
from mdp.sinks._frames import Rejected, record_from_row
from mdp.sinks._lake import ParquetLake
from mdp.sinks._migrate import Migration, migrate_clickhouse, migrate_postgres, migrations
from mdp.sinks._postgres import PostgresSink
from mdp.sinks._schema import TABLES, Column, Table
from mdp.sinks._sink import Sink, WriteResult
from mdp.sinks._worker import ClickHouseArgs, ParquetArgs, PostgresArgs, SinkStats, run_sink

__all__ = [
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
]
