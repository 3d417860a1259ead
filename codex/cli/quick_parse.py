"""Parse a command line the way click would, for the common case, without importing click.

``codex exec`` is mostly start-up, and click (with the inspect, uuid, datetime and gettext
modules it imports) is ~15 ms of it. ``parse`` reads the same ``OptionSpec`` declarations the
click command is built from and follows click's parser: options may come between positional
words, ``--`` ends them, ``--name=value``, ``-xVALUE`` and clustered short flags (``-yo FILE``)
work, an option's value is the next word whatever it looks like, the last value of a
repeated option wins and ``multiple`` options collect every value.

Whenever click would do more than that (print help, report an unknown option, a missing value
or a bad choice, look at a path that exists), ``parse`` returns None and the caller hands the
command line to click, so every message a user can see still comes from click.
``tests/test_quick_parse.py`` holds the two parsers equal on generated command lines.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codex.cli.options import OptionSpec

POSITIONAL = "args"  # the name of the command's variadic positional parameter


def parse(specs: Sequence[OptionSpec], argv: Sequence[str]) -> dict[str, Any] | None:
    """``argv`` as the command's parameters (click's names and values), or None for "ask click"."""
    by_decl = {decl: spec for spec in specs for decl in spec.decls}
    given: dict[str, Any] = {}
    positional: list[str] = []
    rest = list(argv)
    while rest:
        word = rest.pop(0)
        if word == "--":
            positional += rest
            break
        if len(word) < 2 or word[0] != "-":
            positional.append(word)
        elif word.startswith("--"):
            name, has_value, value = word.partition("=")
            spec = by_decl.get(name)
            if spec is None or (has_value and spec.kind == "flag"):
                return None
            if spec.kind == "flag":
                _store(given, spec, True)
            elif not _take_value(given, spec, value if has_value else None, rest):
                return None
        elif not _short_cluster(word, by_decl, given, rest):
            return None
    return _finish(specs, given, positional)


def _short_cluster(word: str, by_decl: dict[str, OptionSpec], given: dict[str, Any], rest: list[str]) -> bool:
    """``-abc``: flags until one takes a value, which is the rest of the word or the next word."""
    for index in range(1, len(word)):
        spec = by_decl.get(f"-{word[index]}")
        if spec is None:
            return False
        if spec.kind == "flag":
            _store(given, spec, True)
            continue
        return _take_value(given, spec, word[index + 1 :] or None, rest)
    return True


def _take_value(given: dict[str, Any], spec: OptionSpec, attached: str | None, rest: list[str]) -> bool:
    """Store the option's value: ``attached`` to its name, else the next word (False: none left)."""
    if attached is not None:
        _store(given, spec, attached)
    elif rest:
        _store(given, spec, rest.pop(0))
    else:
        return False
    return True


def _store(given: dict[str, Any], spec: OptionSpec, value: Any) -> None:
    if spec.kind == "multiple":
        given.setdefault(spec.name, []).append(value)
    else:
        given[spec.name] = value


def _finish(specs: Sequence[OptionSpec], given: dict[str, Any], positional: list[str]) -> dict[str, Any] | None:
    params: dict[str, Any] = {}
    for spec in specs:
        value = given.get(spec.name)
        if value is None:
            params[spec.name] = () if spec.kind == "multiple" else (False if spec.kind == "flag" else spec.default)
            continue
        if spec.kind == "multiple":
            if spec.path is not None:
                value = [_path(spec.path, item) for item in value]
                if None in value:
                    return None
            params[spec.name] = tuple(value)
            continue
        if spec.choices is not None and value not in spec.choices:
            return None
        if spec.path is not None:
            value = _path(spec.path, value)
            if value is None:
                return None
        params[spec.name] = value
    params[POSITIONAL] = tuple(positional)
    return params


def _path(kind: str, value: str) -> Path | None:
    """The Path click's ``click.Path`` would give, when that is certain without asking it."""
    if not value:
        return None
    if kind == "existing-dir":
        return Path(value) if os.path.isdir(value) and os.access(value, os.R_OK) else None
    if not os.path.exists(value):
        return Path(value)
    return Path(value) if os.path.isfile(value) and os.access(value, os.R_OK) else None
