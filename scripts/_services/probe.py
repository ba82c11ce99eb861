"""Readiness probes and small helpers for scripts/services (run with .venv/bin/python).

    probe.py cluster-id
        a new Kafka cluster id (what `kafka-storage random-uuid` prints)
    probe.py kafka BOOTSTRAP PID TIMEOUT
        wait until a metadata request succeeds (and PID stays alive)
    probe.py postgres DSN_WITHOUT_DB DB TIMEOUT
        create DB if missing, CREATE EXTENSION timescaledb, try a hypertable (rolled back)
    probe.py chdb
        open a chdb:// DSN in a temp dir through clickhouse-connect and SELECT 1

Every wait is bounded by TIMEOUT seconds; exit status 0 means ready, anything else means not.
"""

from __future__ import annotations

import base64
import os
import socket
import sys
import time
import uuid


def cluster_id() -> int:
    # Kafka's Uuid.toString(): URL-safe base64 of the 16 bytes, no padding (22 characters).
    print(base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode())
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def kafka(bootstrap: str, pid: int, timeout: float) -> int:
    from confluent_kafka.admin import AdminClient

    host, _, port = bootstrap.rpartition(":")
    deadline = time.monotonic() + timeout
    last = "broker port not open yet"
    while time.monotonic() < deadline:
        if pid and not _alive(pid):
            print(f"kafka: broker process {pid} exited", file=sys.stderr)
            return 2
        if _port_open(host, int(port)):
            admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
            try:
                md = admin.list_topics(timeout=min(3.0, max(0.5, deadline - time.monotonic())))
                if md.brokers:
                    return 0
                last = "metadata has no brokers"
            except Exception as ex:
                last = f"metadata request failed: {ex}"
        time.sleep(0.25)
    print(f"kafka: not ready after {timeout:.0f} s ({last})", file=sys.stderr)
    return 1


def postgres(dsn: str, db: str, timeout: float) -> int:
    import psycopg
    from psycopg import sql

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(dsn + "/postgres", autocommit=True, connect_timeout=2) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (db,)
                ).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
            break
        except psycopg.OperationalError as ex:
            if time.monotonic() > deadline:
                print(f"postgres: cannot connect: {ex}", file=sys.stderr)
                return 1
            time.sleep(0.25)
    with psycopg.connect(dsn + "/" + db, connect_timeout=5) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        conn.commit()
        version = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
        ).fetchone()
        # A hypertable cannot be temporary: make a real one inside a transaction and roll it back.
        conn.execute("CREATE TABLE mdp_services_probe_ht (ts timestamptz NOT NULL, v int)")
        conn.execute("SELECT create_hypertable('mdp_services_probe_ht', 'ts')")
        conn.rollback()
    print(f"timescaledb {version[0] if version else '?'}")
    return 0


def chdb() -> int:
    import tempfile

    import clickhouse_connect

    with tempfile.TemporaryDirectory(prefix="mdp-chdb-probe-") as tmp:
        client = clickhouse_connect.get_client(dsn=f"chdb://{tmp}")
        try:
            one = client.command("SELECT 1")
            engine = client.server_version
        finally:
            client.close()
    if one != 1:
        print(f"chdb: SELECT 1 returned {one!r}", file=sys.stderr)
        return 1
    from importlib.metadata import version

    cc = version("clickhouse-connect")
    print(f"chdb {version('chdb')} (ClickHouse engine {engine}), clickhouse-connect {cc}")
    return 0


def main(argv: list[str]) -> int:
    cmd, args = argv[0], argv[1:]
    if cmd == "cluster-id":
        return cluster_id()
    if cmd == "kafka":
        return kafka(args[0], int(args[1]), float(args[2]))
    if cmd == "postgres":
        return postgres(args[0], args[1], float(args[2]))
    if cmd == "chdb":
        return chdb()
    print(f"probe.py: unknown command {cmd}", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
