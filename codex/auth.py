"""Stored credentials: ``$CODEX_HOME/auth.json``, in the format the Rust peer reads and writes.

The peer (0.169) writes ``{"auth_mode": "apikey", "OPENAI_API_KEY": "sk-..."}`` after
``codex login --with-api-key``; older versions wrote ``{"OPENAI_API_KEY": ..., "tokens": null,
"last_refresh": null}``, and a ChatGPT sign-in stores ``tokens`` (which codex-py cannot use).
Both programs can share one CODEX_HOME: each reads what the other wrote.

A provider entry with ``requires_openai_auth = true`` (the built-in ``openai`` one) takes its key
from here when its ``env_key`` variable is unset: the environment always wins. The key never
enters the environment of commands the model runs; CODEX_HOME is read-only inside the sandbox,
so a confined command cannot plant a key either.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from codex.errors import CodexError

AUTH_FILE = "auth.json"
# The peer's field names: a file either program wrote works in the other.
API_KEY_FIELD = "OPENAI_API_KEY"
MODE_FIELD = "auth_mode"
API_KEY_MODE = "apikey"


class AuthFileError(CodexError):
    """auth.json exists but cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class StoredAuth:
    """What ``auth.json`` holds: an API key, and whether it also holds ChatGPT tokens."""

    path: Path
    api_key: str | None
    mode: str | None
    has_tokens: bool


@dataclass(frozen=True)
class KeyOrigin:
    """Where a provider's key comes from: ``kind`` is ``env`` or ``auth.json``."""

    kind: str
    where: str
    key: str

    def describe(self) -> str:
        """``environment variable OPENAI_API_KEY`` or the auth.json path, for people."""
        if self.kind == "env":
            return f"environment variable {self.where}"
        return self.where


def auth_path(home: Path | None = None) -> Path:
    """``$CODEX_HOME/auth.json`` (``home`` defaults to the CODEX_HOME of the environment)."""
    if home is None:
        from codex.home import codex_home

        home = codex_home()
    return home / AUTH_FILE


def read_auth(home: Path | None = None) -> StoredAuth | None:
    """The stored credentials, or None when there is no auth.json.

    Raises AuthFileError when the file exists but is not a regular file of this user that
    only they can write, or is not a JSON object: a key from such a file is not trusted.
    """
    from codex.private import read_private_file

    path = auth_path(home)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuthFileError(f"{path}: cannot read it: {exc.strerror}") from None
    data = read_private_file(path)
    if data is None:
        kind = "a symbolic link"
        if not stat.S_ISLNK(info.st_mode):
            kind = "not a regular file of yours that only you can write"
        raise AuthFileError(
            f"{path}: {kind}, so codex does not trust the key in it; remove it (`codex logout`) "
            f"and sign in again, or fix it with `chmod 600 {path}`"
        )
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AuthFileError(
            f"{path}: not valid JSON ({exc}); run `codex logout` and `codex login --with-api-key` to write it again"
        ) from None
    if not isinstance(document, dict):
        raise AuthFileError(f"{path}: expected a JSON object with {API_KEY_FIELD}; run `codex logout` to remove it")
    key = document.get(API_KEY_FIELD)
    mode = document.get(MODE_FIELD)
    return StoredAuth(
        path=path,
        api_key=key.strip() or None if isinstance(key, str) else None,
        mode=mode if isinstance(mode, str) else None,
        has_tokens=isinstance(document.get("tokens"), dict),
    )


def save_api_key(key: str, home: Path | None = None) -> Path:
    """Write ``key`` to auth.json as the peer does (0600, atomically, replacing what was there)."""
    from codex.private import make_private_dirs, write_private_file

    path = auth_path(home)
    make_private_dirs(path.parent)
    document = {MODE_FIELD: API_KEY_MODE, API_KEY_FIELD: key}
    write_private_file(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"), sync=True)
    return path


def remove_auth(home: Path | None = None) -> bool:
    """Delete auth.json; False when there was none."""
    try:
        os.unlink(auth_path(home))
    except FileNotFoundError:
        return False
    return True


def key_origin(env_key: str | None, *, use_auth_file: bool, home: Path | None = None) -> KeyOrigin | None:
    """Where a provider's key comes from: the ``env_key`` variable when set, else auth.json when
    the provider accepts it (``requires_openai_auth``); None when neither has one."""
    if env_key:
        value = os.environ.get(env_key, "").strip()
        if value:
            return KeyOrigin("env", env_key, value)
    if use_auth_file:
        stored = read_auth(home)
        if stored is not None and stored.api_key:
            return KeyOrigin("auth.json", str(stored.path), stored.api_key)
    return None


def mask_key(key: str) -> str:
    """The key as status lines show it: the first 8 and last 5 characters, like the peer."""
    if len(key) <= 16:
        return "***"
    return f"{key[:8]}***{key[-5:]}"
