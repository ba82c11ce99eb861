"""Installing and checking the systemd units in ``systemd/``.

``install`` renders the unit files (the mdp executable and the roles directory are filled
in, so the units point at this installation) into ``<root>/etc/systemd/system`` and the
sysusers file into ``<root>/etc/sysusers.d``. ``verify`` runs ``systemd-analyze verify``
on every unit and role instance — failing on any message, since it exits 0 on a typo —
and ``systemd-analyze security --offline=true`` on each role, failing above the exposure
bound.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import attrs

from mdp._exceptions import DeployError

__all__ = ["ROLES", "InstallResult", "install", "units_dir", "verify"]

ROLES = ("collector", "sink", "all")
MAX_EXPOSURE = 3.0


def units_dir() -> Path:
    """``systemd/`` of the source tree this mdp runs from."""
    here = Path(__file__).resolve().parents[2] / "systemd"
    if not (here / "mdp@.service").is_file():
        raise DeployError(f"no unit files at {here}: run mdp systemd from a source checkout")
    return here


def _default_exec() -> str:
    found = shutil.which("mdp")
    if found:
        return str(Path(found).resolve())
    return str(Path(sys.executable).with_name("mdp"))


@attrs.frozen
class InstallResult:
    unit_dir: Path
    files: tuple[Path, ...]


def install(
    root: Path,
    *,
    executable: str | None = None,
    roles_dir: Path | None = None,
    source: Path | None = None,
) -> InstallResult:
    """Write the rendered units under ``root`` (``/`` for the real system)."""
    source = source or units_dir()
    executable = executable or _default_exec()
    roles = roles_dir or (source.parent / "supervisors").resolve()
    unit_dir = root / "etc" / "systemd" / "system"
    written: list[Path] = []
    for path in sorted(source.rglob("*")):
        if path.is_dir() or path.name == "mdp.sysusers":
            continue
        target = unit_dir / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text(encoding="utf-8")
        text = text.replace("@MDP_EXEC@", executable).replace("@MDP_ROLES_DIR@", str(roles))
        target.write_text(text, encoding="utf-8")
        written.append(target)
    sysusers = root / "etc" / "sysusers.d" / "mdp.conf"
    sysusers.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "mdp.sysusers", sysusers)
    written.append(sysusers)
    return InstallResult(unit_dir, tuple(written))


def _analyze(args: list[str], unit_dir: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        raise DeployError("systemd-analyze is not installed (Debian: apt-get install systemd)")
    env = {**os.environ, "SYSTEMD_UNIT_PATH": f"{unit_dir}:", "SYSTEMD_LOG_COLOR": "0"}
    return subprocess.run(
        [tool, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


_EXPOSURE = re.compile(r"Overall exposure level for (\S+): ([0-9.]+)")


def verify(unit_dir: Path, roles: tuple[str, ...] = ROLES) -> list[str]:
    """Every problem found, one line each; empty when the units are clean."""
    units = [f"mdp@{role}.service" for role in roles] + ["mdp.target"]
    problems: list[str] = []
    checked = _analyze(["verify", *units], unit_dir)
    output = (checked.stdout + checked.stderr).strip()
    if checked.returncode != 0 or output:
        problems += [f"verify: {line}" for line in output.splitlines()] or [
            f"verify exited {checked.returncode}"
        ]
    for role in roles:
        unit = f"mdp@{role}.service"
        security = _analyze(["security", "--offline=true", unit], unit_dir)
        found = _EXPOSURE.search(security.stdout)
        if found is None:
            problems.append(f"security {unit}: no exposure level in: {security.stderr.strip()}")
        elif float(found.group(2)) > MAX_EXPOSURE:
            problems.append(f"security {unit}: exposure {found.group(2)} > {MAX_EXPOSURE}")
    return problems


def exposure(unit_dir: Path, role: str) -> float:
    found = _EXPOSURE.search(
        _analyze(["security", "--offline=true", f"mdp@{role}.service"], unit_dir).stdout
    )
    if found is None:
        raise DeployError(f"systemd-analyze gave no exposure level for mdp@{role}.service")
    return float(found.group(2))
