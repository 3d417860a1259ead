"""Where codex keeps its state: ``$CODEX_HOME``, else ``~/.codex``.

A module of its own so that low modules (``codex.auth``, read by the provider config) can find
the directory without importing the config loader.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def codex_home(env: Mapping[str, str] | None = None) -> Path:
    """``$CODEX_HOME`` when set, else ``~/.codex`` (the same place the Rust peer uses)."""
    env = os.environ if env is None else env
    value = env.get("CODEX_HOME", "").strip()
    return Path(value).expanduser() if value else Path.home() / ".codex"
