"""The environment overrides configuration keys and fills ``${VAR}`` references, with
errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdp import ConfigError
from mdp.bus._config import load_bus_config
from mdp.config import LogLevel, PlatformConfig, load_toml
from mdp.supervision._role import load_role

REPO = Path(__file__).resolve().parent.parent


def test_bare_prefix_overrides_the_platform_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mdp.toml"
    path.write_text('log_level = "info"\n')
    monkeypatch.setenv("MDP__LOG_LEVEL", "debug")
    monkeypatch.setenv("MDP__STATE_DIR", "/srv/mdp")
    config = load_toml(path, PlatformConfig)
    assert config.log_level is LogLevel.DEBUG
    assert config.state_dir == Path("/srv/mdp")


def test_file_prefix_overrides_nested_keys_with_toml_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shipped = load_bus_config(REPO / "etc/mdp/bus.toml")
    monkeypatch.setenv("MDP_BUS__PRODUCER__LINGER_MS", "7")
    monkeypatch.setenv("MDP_BUS__CONSUMER__GROUP", "from-env")
    config = load_bus_config(REPO / "etc/mdp/bus.toml")
    assert config.producer.linger_ms == 7 != shipped.producer.linger_ms
    assert config.consumer.group == "from-env"
    assert config.topics == shipped.topics  # everything else as in the file


def test_a_bad_override_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDP_BUS__PRODUCER__LINGR_MS", "7")
    with pytest.raises(ConfigError) as info:
        load_bus_config(REPO / "etc/mdp/bus.toml")
    message = str(info.value)
    assert "$MDP_BUS__PRODUCER__LINGR_MS from the environment" in message
    assert "unknown key" in message
    assert "lingr_ms" in message


def test_an_override_below_a_value_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mdp.toml"
    path.write_text('log_level = "info"\n')
    monkeypatch.setenv("MDP__LOG_LEVEL__X", "1")
    with pytest.raises(ConfigError, match=r"\$MDP__LOG_LEVEL__X: log_level is not a table"):
        load_toml(path, PlatformConfig)


def _role(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "envrole.toml"
    path.write_text(
        "[supervisor]\nstrategy = 'one_for_one'\n"
        "[[supervisor.children]]\nname = 'w'\ncomponent = 'demo.counter'\n" + body
    )
    return path


def test_role_files_take_references_and_run_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _role(tmp_path, "args = { count = 3 }\n[run]\nmetrics = '${MDP_TEST_METRICS:-}'\n")
    assert load_role(str(path)).spec.run.metrics == ""
    monkeypatch.setenv("MDP_TEST_METRICS", "127.0.0.1:9999")
    assert load_role(str(path)).spec.run.metrics == "127.0.0.1:9999"
    monkeypatch.setenv("MDP_ENVROLE__RUN__DRAIN_TIMEOUT", "2.5")
    assert load_role(str(path)).spec.run.drain_timeout == 2.5


def test_an_unset_reference_names_key_and_variable(tmp_path: Path) -> None:
    path = _role(tmp_path, "args = { label = '${MDP_TEST_SURELY_UNSET}' }\n")
    with pytest.raises(ConfigError) as info:
        load_role(str(path))
    message = str(info.value)
    assert message.startswith(str(path))
    assert "supervisor.children[0].args.label" in message
    assert "${MDP_TEST_SURELY_UNSET} is not set" in message


def test_dollar_dollar_is_a_literal_dollar(tmp_path: Path) -> None:
    path = _role(tmp_path, "[run]\nmetrics = 'a$$b'\n")
    assert load_role(str(path)).spec.run.metrics == "a$b"


def test_etc_mdp_resolves_under_the_config_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mdp.toml").write_text('log_level = "warning"\n')
    monkeypatch.chdir(tmp_path)  # no etc/mdp here: only the config directory has the file
    monkeypatch.setenv("CONFIGURATION_DIRECTORY", str(tmp_path))  # what systemd sets
    assert load_toml("etc/mdp/mdp.toml", PlatformConfig).log_level is LogLevel.WARNING
    monkeypatch.setenv("MDP_CONFIG_DIR", str(tmp_path / "elsewhere"))  # wins over systemd's
    with pytest.raises(ConfigError, match=r"elsewhere/mdp\.toml: no such configuration file"):
        load_toml("etc/mdp/mdp.toml", PlatformConfig)
