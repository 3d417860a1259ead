"""Editing config.toml in place: one key changes, every other byte stays as the user wrote it.

tomlkit keeps comments, order and formatting; this module adds the policy around it: where a
new key goes (after the table's last key, not after a comment that introduces the next table),
refusing an edit that would make the file invalid, and replacing the file atomically so a crash
or a full disk never leaves half a config behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex.config.overrides import KeyPath, format_key_path, parse_key_path, parse_value
from codex.errors import ConfigError
from codex.private import make_private_dirs

# Called with the would-be file content; raises ConfigError when it is not a valid config.
Checker = Callable[[str], None]


@dataclass
class EditResult:
    """What an edit did: the file written and the key's value before (None when it was unset)."""

    path: Path
    key: str
    previous: Any


def _is_table(item: Any) -> bool:
    import tomlkit.items

    return isinstance(item, tomlkit.items.Table | tomlkit.items.InlineTable)


def _walk_to_parent(doc: Any, path: KeyPath, *, create: bool) -> Any:
    """The table that holds ``path[-1]``, creating missing tables when ``create`` is set."""
    import tomlkit

    container = doc
    for depth, key in enumerate(path[:-1]):
        here = format_key_path(path[: depth + 1])
        if key not in container:
            if not create:
                return None
            # A table that only holds other tables renders as [a.b] instead of [a] + [a.b].
            container[key] = tomlkit.table(is_super_table=depth < len(path) - 2)
        child = container[key]
        if not _is_table(child):
            kind = "an array" if isinstance(child, list) else "a value"
            raise ConfigError(f"cannot edit {format_key_path(path)}: {here} is {kind}, not a table")
        container = child
    return container


def _key_line(key: str, value: Any) -> str:
    """``key = value`` as tomlkit renders a new entry (quoting the key where TOML needs it)."""
    import tomlkit

    return f"{tomlkit.key(key).as_string()} = {tomlkit.item(value).as_string()}"


def _add_key(text: str, doc: Any, parent: Any, path: KeyPath, value: Any) -> str:
    """``text`` with a new key ``path`` set to ``value``, placed after its table's last key.

    The place comes from the text (``toml_layout``), not from tomlkit: tomlkit appends at the
    end of a table's body, after the blank lines and comments that introduce the next table,
    and which comments count as that body changes between its versions. A table that has no
    header of its own (only dotted keys or sub-tables) is left to tomlkit.
    """
    from codex.config.toml_layout import insert_line, insertion_line

    line = insertion_line(text, path[:-1])
    if line is not None:
        new_text = insert_line(text, line, _key_line(path[-1], value))
        if _reads_back(new_text, path, value):
            return new_text
    parent[path[-1]] = value
    rendered: str = doc.as_string()
    return rendered


def _reads_back(text: str, path: KeyPath, value: Any) -> bool:
    """Whether ``text`` parses and holds ``value`` at ``path`` (a check on the placement)."""
    import tomllib

    try:
        data: Any = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    expected = value.unwrap() if hasattr(value, "unwrap") else value
    return bool(data == expected)


def set_in_text(text: str, path: KeyPath, value: Any) -> tuple[str, Any]:
    """Return ``text`` with ``path`` set to ``value``, and the previous value (or None)."""
    import tomlkit

    doc = tomlkit.parse(text)
    parent = _walk_to_parent(doc, path, create=True)
    key = path[-1]
    if isinstance(value, dict):
        inline = tomlkit.inline_table()
        inline.update(value)
        value = inline
    if key in parent:
        previous = parent[key]
        if _is_table(previous) and not isinstance(value, dict):
            raise ConfigError(
                f"cannot set {format_key_path(path)}: it is a table in config.toml; set one of its "
                f"keys instead, e.g. codex config set {format_key_path(path)}.KEY VALUE"
            )
        old = previous.unwrap() if hasattr(previous, "unwrap") else previous
        parent[key] = value
        return doc.as_string(), old
    return _add_key(text, doc, parent, path, value), None


def unset_in_text(text: str, path: KeyPath) -> tuple[str, Any]:
    """Return ``text`` without ``path`` and the value removed; a ConfigError when it is not set."""
    import tomlkit

    doc = tomlkit.parse(text)
    parent = _walk_to_parent(doc, path, create=False)
    if parent is None or path[-1] not in parent:
        raise ConfigError(f"{format_key_path(path)} is not set in config.toml; nothing to unset")
    previous = parent[path[-1]]
    old = previous.unwrap() if hasattr(previous, "unwrap") else previous
    del parent[path[-1]]
    return doc.as_string(), old


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` via a temporary file and a rename in the same directory.

    A symlinked config.toml (dotfile managers) is written through: the link stays a link.
    A new file is created private (0600); an existing file keeps its permissions.
    """
    target = path.resolve() if path.is_symlink() else path
    make_private_dirs(target.parent)
    try:
        mode: int | None = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def _read_text(path: Path) -> str:
    """The current file ("" when missing); a syntax error is reported before any editing."""
    from codex.config.loader import parse_config_text

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc}") from None
    parse_config_text(text, path)
    return text


def _checked_write(path: Path, text: str, check: Checker | None, what: str) -> None:
    if check is not None:
        try:
            check(text)
        except ConfigError as exc:
            raise ConfigError(f"{what} refused, {path} was not changed:\n{exc}") from None
    write_atomically(path, text)


def set_config_value(path: Path, key: str, value_text: str, *, check: Checker | None = None) -> EditResult:
    """``codex config set KEY VALUE``: VALUE is TOML (``'"o3"'``, ``true``, ``[1]``) or plain text.

    ``check`` validates the edited content before anything is written.
    """
    key_path = parse_key_path(key, what="codex config set")
    original = _read_text(path)
    try:
        new_text, previous = set_in_text(original, key_path, parse_value(value_text))
    except ConfigError:
        raise
    except Exception as exc:  # tomlkit raises its own errors on a file it cannot edit
        raise ConfigError(f"{path}: cannot edit {key}: {exc}") from None
    _checked_write(path, new_text, check, f"setting {format_key_path(key_path)}")
    return EditResult(path, format_key_path(key_path), previous)


def unset_config_value(path: Path, key: str, *, check: Checker | None = None) -> EditResult:
    """``codex config unset KEY``: remove the key; the value falls back to the layer below."""
    key_path = parse_key_path(key, what="codex config unset")
    original = _read_text(path)
    try:
        new_text, previous = unset_in_text(original, key_path)
    except ConfigError:
        raise
    except Exception as exc:  # tomlkit raises its own errors on a file it cannot edit
        raise ConfigError(f"{path}: cannot edit {key}: {exc}") from None
    _checked_write(path, new_text, check, f"unsetting {format_key_path(key_path)}")
    return EditResult(path, format_key_path(key_path), previous)
