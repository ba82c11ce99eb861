"""The systemd units: installed under a root, verified by systemd-analyze, hardened."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from mdp.deploy import ROLES, exposure, install, units_dir, verify


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    result = install(tmp_path, executable=sys.executable)  # any existing executable
    assert (tmp_path / "etc/sysusers.d/mdp.conf").is_file()
    return result.unit_dir


def test_units_render_this_installation(installed: Path) -> None:
    text = (installed / "mdp@.service").read_text()
    assert f"ExecStart={sys.executable} run --roles-dir " in text
    assert "@MDP_" not in text
    for line in (
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "StartLimitBurst=",
        "RuntimeDirectory=mdp/%i",
        "StateDirectory=mdp",
        "User=mdp",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    ):
        assert line in text
    for role, cpus in (("collector", "0"), ("sink", "1")):
        assert (
            f"CPUAffinity={cpus}"
            in (installed / f"mdp@{role}.service.d/10-affinity.conf").read_text()
        )
    assert "Wants=mdp@collector.service mdp@sink.service" in (installed / "mdp.target").read_text()


def test_systemd_analyze_finds_nothing_and_exposure_is_low(installed: Path) -> None:
    assert verify(installed) == []
    for role in ROLES:
        assert exposure(installed, role) <= 3.0


def test_a_typo_fails_the_check(tmp_path: Path) -> None:
    # systemd-analyze verify exits 0 on an unknown key: the check must not.
    source = tmp_path / "src"
    shutil.copytree(units_dir(), source)
    unit = source / "mdp@.service"
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restrat=on-failure"))
    result = install(tmp_path / "root", executable=sys.executable, source=source)
    problems = verify(result.unit_dir)
    assert any("Restrat" in line for line in problems), problems


def test_weakened_hardening_fails_the_check(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(units_dir(), source)
    unit = source / "mdp@.service"
    text = unit.read_text()
    cut = text.index("# Hardening")
    unit.write_text(text[:cut] + "\n[Install]\nWantedBy=mdp.target\n")
    result = install(tmp_path / "root", executable=sys.executable, source=source)
    assert any("exposure" in line for line in verify(result.unit_dir))
