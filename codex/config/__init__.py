"""Configuration: the shape of config.toml, loading with precedence, ``-c``, tomlkit edits.

Importing this package is cheap; pydantic loads only when merged data has to be checked.
"""

from __future__ import annotations

from codex.config.loader import LoadedConfig, codex_home, load_config

__all__ = ["LoadedConfig", "codex_home", "load_config"]
