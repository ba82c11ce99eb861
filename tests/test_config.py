"""Configuration errors name the file, the key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from mdp import ConfigError
from mdp.config import LogLevel, PlatformConfig, load_toml, structure

REPO = Path(__file__).resolve().parent.parent


def test_shipped_file_is_valid_and_equals_the_defaults() -> None:
    assert load_toml(REPO / "etc/mdp/mdp.toml", PlatformConfig) == PlatformConfig()


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ('log_level = "loud"', ["log_level", "'debug', 'info', 'warning', 'error'"]),
        ("colour = 1", ["unknown key", "colour", "allowed", "state_dir"]),
        ("state_dir = 5", ["state_dir"]),
        ("log_level = [", ["not valid TOML"]),
    ],
)
def test_errors_name_file_key_and_allowed(tmp_path: Path, text: str, needles: list[str]) -> None:
    path = tmp_path / "mdp.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_toml(path, PlatformConfig)
    message = str(info.value)
    assert message.startswith(str(path))
    for needle in needles:
        assert needle in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_toml(tmp_path / "absent.toml", PlatformConfig)


@attrs.frozen
class Inner:
    port: int
    level: LogLevel = LogLevel.INFO


@attrs.frozen
class Outer:
    name: str
    inner: Inner
    others: list[Inner] = attrs.Factory(list)


def test_nested_paths_and_missing_keys() -> None:
    with pytest.raises(ConfigError) as info:
        structure({"name": "x", "inner": {"level": "nope"}}, Outer, source="roles.toml")
    message = str(info.value)
    assert message.startswith("roles.toml: ")
    assert "inner.port: required key is missing" in message
    assert "inner.level" in message
    assert "'debug'" in message
    with pytest.raises(ConfigError, match=r"others\[1\]\.port"):
        structure(
            {"name": "x", "inner": {"port": 1}, "others": [{"port": 1}, {"port": "a"}]},
            Outer,
            source="roles.toml",
        )


def test_environment_variables_expand_in_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDP_TEST_DIR", "/srv/mdp")
    config = structure({"state_dir": "$MDP_TEST_DIR/state"}, PlatformConfig, source="x")
    assert config.state_dir == Path("/srv/mdp/state")
