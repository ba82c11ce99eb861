"""``mdp kafka topics [--ensure]`` against the real broker: makes what is missing with the
configured partitions and retention, and leaves what exists alone."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource

from mdp.cli import main
from tests.bus.helpers import KAFKA, drop_topics


def _files(tmp_path: Path) -> tuple[Path, str]:
    exchange = "t" + uuid.uuid4().hex[:10]
    symbols = tmp_path / "symbols.toml"
    symbols.write_text(
        f'[[instrument]]\nexchange = "{exchange}"\nmarket = "spot"\nnative_symbol = "BTCUSDT"\n'
        'base = "BTC"\nquote = "USDT"\ntick = "0.01"\nlot = "0.00001"\n'
    )
    bus = tmp_path / "bus.toml"
    bus.write_text(
        f'[topics]\nsymbols = "{symbols}"\nkinds = ["trade", "bbo"]\n'
        "partitions = 2\nretention_ms = 3600000\n"
    )
    return bus, exchange


def test_topics_ensure_creates_then_leaves_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bus, exchange = _files(tmp_path)
    names = [f"bbo.{exchange}.spot.btc-usdt", f"trade.{exchange}.spot.btc-usdt"]
    try:
        assert main(["kafka", "topics", "--config", str(bus)]) == 0
        assert capsys.readouterr().out.split() == names
        assert (
            main(["kafka", "topics", "--ensure", "--config", str(bus), "--bootstrap", KAFKA]) == 0
        )
        out = capsys.readouterr().out
        assert f"created  {names[0]}" in out
        assert "2 created, 0 already there" in out
        assert (
            main(["kafka", "topics", "--ensure", "--config", str(bus), "--bootstrap", KAFKA]) == 0
        )
        assert "0 created, 2 already there" in capsys.readouterr().out

        admin = AdminClient({"bootstrap.servers": KAFKA})
        metadata = admin.list_topics(timeout=10).topics
        assert len(metadata[names[1]].partitions) == 2
        resource = ConfigResource(ConfigResource.Type.TOPIC, names[1])
        configs = admin.describe_configs([resource])[resource].result(10)
        assert configs["retention.ms"].value == "3600000"
    finally:
        drop_topics(names)


def test_topics_ensure_without_a_broker_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bus, _ = _files(tmp_path)
    code = main(
        [
            "kafka",
            "topics",
            "--ensure",
            "--config",
            str(bus),
            "--bootstrap",
            "127.0.0.1:1",
            "--timeout",
            "1",
        ]
    )
    assert code == 2
    assert "is Kafka running?" in capsys.readouterr().err
