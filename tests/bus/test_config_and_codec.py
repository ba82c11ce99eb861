"""Bus settings from TOML with clear errors, records ↔ messages, and the topics list."""

from __future__ import annotations

from pathlib import Path

import pytest

import mdp.bus
from mdp._exceptions import ConfigError, UnsupportedSchemaVersion, WireError
from mdp.bus import BusConfig, Compression, configured_topics, load_bus_config
from mdp.bus._codec import HEADERS, from_message, to_messages
from mdp.model import Kind
from mdp.wire import encode
from tests.bus.helpers import trades, unique_instruments

REPO = Path(__file__).resolve().parents[2]


def test_shipped_file_is_the_defaults() -> None:
    assert load_bus_config(REPO / "etc/mdp/bus.toml") == BusConfig()
    assert load_bus_config("") == BusConfig()


def test_librdkafka_settings_are_idempotent_and_batching() -> None:
    conf = BusConfig().producer.librdkafka("127.0.0.1:19092")
    assert conf["enable.idempotence"] is True
    assert conf["acks"] == "all"
    assert conf["compression.type"] == "lz4"
    consumer = BusConfig().consumer.librdkafka("127.0.0.1:19092")
    assert consumer["enable.auto.commit"] is False


def test_bad_values_name_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bus.toml"
    path.write_text('[producer]\ncompression = "brotli"\nlinger_ms = -1\nlinger = 3\n')
    with pytest.raises(ConfigError) as info:
        load_bus_config(path)
    message = str(info.value)
    assert str(path) in message
    assert "unknown key(s) linger" in message
    path.write_text('[producer]\ncompression = "brotli"\n')
    with pytest.raises(ConfigError, match=r"producer\.compression.*'lz4'"):
        load_bus_config(path)
    path.write_text("[consumer]\nmax_messages = 0\n")
    with pytest.raises(ConfigError, match="max_messages must be greater than 0"):
        load_bus_config(path)
    assert Compression("zstd") is Compression.ZSTD


def test_messages_are_one_topic_one_key_in_order() -> None:
    instruments = unique_instruments(2)
    records = trades(instruments, 0, 2_500)
    messages = to_messages(records, 1000)
    assert [(m.topic.split(".")[-1], m.count) for m in messages] == [
        ("btc-usdt", 1000),
        ("btc-usdt", 250),
        ("eth-usdt", 1000),
        ("eth-usdt", 250),
    ]
    assert {m.key for m in messages} == {b"BTC/USDT", b"ETH/USDT"}
    back = [r for m in messages for r in from_message(m.value, HEADERS)]
    assert sorted(back, key=lambda r: (r.instrument.symbol, r.trade_id)) == sorted(  # type: ignore[union-attr]
        records, key=lambda r: (r.instrument.symbol, r.trade_id)
    )


def test_one_envelope_messages_decode_too() -> None:
    (record,) = trades(unique_instruments(1), 0, 1)
    headers = [("content-type", b"application/x-protobuf; messageType=mdp.v1.Envelope")]
    assert from_message(encode(record), headers) == [record]


def test_what_is_not_mdp_is_a_wire_error() -> None:
    with pytest.raises(WireError):
        from_message(b"\xff\x00garbage", HEADERS)
    with pytest.raises(WireError, match="tombstone"):
        from_message(None, HEADERS)
    with pytest.raises(UnsupportedSchemaVersion):
        from_message(b"", [("mdp-schema-version", b"9")])
    with pytest.raises(WireError, match="content-type"):
        from_message(b"", [("content-type", b"application/json")])


def test_configured_topics_every_kind_for_every_symbol() -> None:
    config = BusConfig().topics
    topics = configured_topics(config, base=REPO)
    assert "trade.binance.spot.btc-usdt" in topics
    assert "funding.binance.perpetual.btc-usdt-usdt" in topics
    assert len(topics) == len(set(topics)) == 5 * len(Kind)


def test_public_surface() -> None:
    assert sorted(mdp.bus.__all__) == mdp.bus.__all__
    for name in mdp.bus.__all__:
        assert getattr(mdp.bus, name) is not None
    from mdp.supervision import lookup

    assert lookup("bus.producer").args is mdp.bus.ProducerArgs
    assert lookup("bus.consumer").args is mdp.bus.ConsumerArgs
