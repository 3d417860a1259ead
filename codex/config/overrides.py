"""``-c key.path=value`` overrides, dotted key paths and TOML value text.

The same grammar serves ``-c`` and ``codex config set``: keys follow TOML's dotted-key rules
(quote a segment to put a dot in it: ``model_providers."my.host".base_url``) and values are TOML
(``true``, ``5``, ``["a", "b"]``, ``{ x = 1 }``, ``"o3"``), falling back to the raw text as a
string so ``-c model=o3`` works without shell-quoting the quotes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from codex.errors import ConfigError

KeyPath = tuple[str, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
_KEY_EXAMPLE = 'model_providers."my.host".base_url'


@dataclass(frozen=True)
class Override:
    """One parsed ``-c`` argument: where it points, the value, and the text the user typed."""

    path: KeyPath
    value: Any
    text: str

    @property
    def where(self) -> str:
        """How error messages name this override, e.g. ``-c sandbox_mode=open``."""
        return f"-c {self.text}"


def parse_key_path(text: str, *, what: str = "key") -> KeyPath:
    """Split a dotted TOML key into its segments: ``a."b.c".d`` -> ``("a", "b.c", "d")``.

    ``what`` names the input in the error message (``-c 'x y=1'``, ``codex config set``).
    """
    stripped = text.strip()
    if not stripped:
        raise ConfigError(f"{what}: the key is empty; expected a dotted path such as {_KEY_EXAMPLE}")
    bad = ConfigError(
        f"{what}: {stripped!r} is not a valid key path; separate keys with dots and quote a key "
        f"that contains dots or spaces, e.g. {_KEY_EXAMPLE}"
    )
    if "\n" in stripped or "\r" in stripped:
        raise bad
    # TOML's own parser is the reference for key syntax (escapes, quoting, whitespace round dots).
    import tomllib  # only for -c and `codex config set`

    try:
        table: Any = tomllib.loads(f"{stripped} = 0\n")
    except tomllib.TOMLDecodeError:
        raise bad from None
    path: list[str] = []
    while isinstance(table, dict):
        if len(table) != 1:
            raise bad
        ((key, table),) = table.items()
        path.append(key)
    return tuple(path)


def parse_value(text: str) -> Any:
    """Parse a value as TOML, or return the stripped text as a string when it is not TOML.

    >>> parse_value("true"), parse_value("[1, 2]"), parse_value("o3"), parse_value('"o3"')
    (True, [1, 2], 'o3', 'o3')
    """
    import tomllib

    try:
        parsed = tomllib.loads(f"value = {text}\n")
    except tomllib.TOMLDecodeError:
        return text.strip()
    if set(parsed) != {"value"}:
        # Text such as '1\nother = 2' smuggles in a second key: it is not one value.
        return text.strip()
    return parsed["value"]


def parse_override(text: str) -> Override:
    """Parse ``key.path=value``: split on the first ``=``; the value may contain more ``=``."""
    key, sep, raw = text.partition("=")
    if not sep:
        raise ConfigError(
            f"-c {text}: expected key.path=value, e.g. -c model=o3 or "
            f"-c sandbox_workspace_write.network_access=true"
        )
    return Override(parse_key_path(key, what=f"-c {text}"), parse_value(raw), text)


def parse_overrides(texts: Iterable[str]) -> list[Override]:
    """Parse several ``-c`` arguments in order (a later one wins over an earlier one)."""
    return [parse_override(text) for text in texts]


def nest(path: KeyPath, value: Any) -> dict[str, Any]:
    """Build nested tables from a key path: ``nest(("a", "b"), 1)`` -> ``{"a": {"b": 1}}``."""
    result: Any = value
    for key in reversed(path):
        result = {key: result}
    if not isinstance(result, dict):
        raise ValueError("a key path needs at least one segment")
    return result


def format_key(key: str | int) -> str:
    """One key segment as TOML writes it: bare when possible, quoted otherwise."""
    if isinstance(key, int):
        return str(key)
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def format_key_path(path: Iterable[str | int]) -> str:
    """A key path as a dotted TOML key, quoting segments that need it."""
    return ".".join(format_key(key) for key in path)


def format_value(value: Any) -> str:
    """A Python value as inline TOML text (strings, numbers, booleans, arrays, inline tables).

    ``None`` has no TOML form; it is written as the comment-friendly word ``none`` only in
    messages, so callers omit unset keys when producing a file.
    """
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and value != value:
            return "nan"
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are a subset of TOML basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    if type(value).__module__ == "datetime":  # date, time, datetime (not imported for a rare type)
        return str(value.isoformat())
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        inner = ", ".join(f"{format_key(str(k))} = {format_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
