"""The ``mdp`` command, run as a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mdp import SCHEMA_VERSION, __version__

REPO = Path(__file__).resolve().parent.parent


def mdp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mdp", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def test_help_lists_the_subcommands() -> None:
    result = mdp("--help")
    assert result.returncode == 0
    for command in ("version", "selfcheck", "up", "config"):
        assert command in result.stdout


def test_version_prints_package_and_schema_version() -> None:
    result = mdp("version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"mdp {__version__} (wire schema version {SCHEMA_VERSION})"


def test_selfcheck_round_trips_every_kind() -> None:
    result = mdp("selfcheck")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok ") == 13
    assert "BAD" not in result.stdout


def test_config_check_reports_errors_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('log_level = "loud"\n')
    result = mdp("config", "check", str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr
    assert "log_level" in result.stderr
    assert mdp("config", "check").returncode == 0


def test_unknown_command_is_a_usage_error() -> None:
    result = mdp("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
