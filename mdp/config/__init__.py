"""Configuration: attrs classes structured from TOML by cattrs, with clear errors."""

from mdp.config._load import config_file, converter, load_toml, read_toml, structure
from mdp.config._platform import LogLevel, PlatformConfig

__all__ = [
    "LogLevel",
    "PlatformConfig",
    "config_file",
    "converter",
    "load_toml",
    "read_toml",
    "structure",
]
