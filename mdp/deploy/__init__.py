"""Deployment: the systemd units, installed and checked."""

from mdp.deploy._systemd import ROLES, InstallResult, exposure, install, units_dir, verify

__all__ = ["ROLES", "InstallResult", "exposure", "install", "units_dir", "verify"]
