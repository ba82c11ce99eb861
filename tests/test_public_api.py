"""The public surface: what users may import. A change here is a change users see."""

from __future__ import annotations

import mdp
import mdp.config
import mdp.wire


def test_top_level() -> None:
    core = {
        "SCHEMA_VERSION",
        "ConfigError",
        "InvalidNumber",
        "MdpError",
        "UnsupportedSchemaVersion",
        "WireError",
        "__version__",
    }
    assert core <= set(mdp.__all__)
    # Anything else exported at the top is one of the project's errors.
    for name in set(mdp.__all__) - core:
        value = getattr(mdp, name)
        assert isinstance(value, type), name
        assert issubclass(value, mdp.MdpError), name


def test_errors_subclass_the_closest_builtin() -> None:
    assert issubclass(mdp.ConfigError, ValueError)
    assert issubclass(mdp.InvalidNumber, ValueError)
    assert issubclass(mdp.WireError, ValueError)
    assert issubclass(mdp.UnsupportedSchemaVersion, mdp.WireError)


def test_wire() -> None:
    assert set(mdp.wire.__all__) == {
        "TopicName",
        "decode",
        "decode_batch",
        "encode",
        "encode_batch",
        "parse_topic",
        "symbol_slug",
        "topic_for",
    }


def test_config() -> None:
    assert {"LogLevel", "PlatformConfig", "load_toml", "structure"} <= set(mdp.config.__all__)
