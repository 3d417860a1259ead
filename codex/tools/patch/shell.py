"""Recognising a patch the model sent through the shell tool (`apply_patch <<'EOF' ... EOF`)."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

# --------------------------------------------------------------------------------------------
# Recognising apply_patch run through a shell
# --------------------------------------------------------------------------------------------

_PATCH_COMMANDS = frozenset({"apply_patch", "applypatch"})
_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
_SHELL_OPTIONS = frozenset({"-c", "-lc", "-cl", "-l", "--login"})
_HEREDOC_SCRIPT_SOURCE = (
    r"""\A\s*
    (?:cd[ \t]+(?P<dir>'[^']*'|"[^"$`\\]*"|[^\s;&|<>()'"$`\\]+)\s*&&\s*)?
    (?P<command>apply_patch|applypatch)[ \t]*
    <<(?P<dash>-)?[ \t]*(?P<delimiter>'[^'\n]+'|"[^"\n]+"|\\?[A-Za-z0-9_.\-]+)
    [ \t]*\n"""
)


@cache
def _heredoc_script() -> re.Pattern[str]:
    """The `[cd DIR &&] apply_patch <<'EOF'` opener, compiled on first use: most shell calls
    are not bash scripts, and compiling it costs a few ms of every start."""
    return re.compile(_HEREDOC_SCRIPT_SOURCE, re.VERBOSE)


@dataclass(frozen=True)
class ShellPatch:
    """A patch found in a shell command, and the directory a leading ``cd DIR &&`` named."""

    patch: str
    workdir: str | None


def _unwrap_heredoc(text: str) -> str:
    # The grammar loads only for calls that are patches: the shell tool asks about every command.
    from codex.tools.patch.grammar import _HEREDOC_OPENERS

    lines = text.strip().split("\n")
    opener = _HEREDOC_OPENERS.match(lines[0].strip()) if lines else None
    if opener and len(lines) >= 3 and lines[-1].strip() == opener.group(2):
        return "\n".join(lines[1:-1])
    return text


def extract_patch_from_shell(argv: Sequence[str]) -> ShellPatch | None:
    """Recognise a command that only runs apply_patch, so the engine can apply it itself.

    Handles ``["apply_patch", PATCH]`` (also ``applypatch``), and a shell script (``bash``,
    ``sh``, ``zsh`` with ``-c`` or ``-lc``) of the form ``[cd DIR && ]apply_patch <<'EOF'`` ...
    ``EOF`` with a quoted or unquoted delimiter, or ``apply_patch 'PATCH'``. The heredoc body is
    taken literally (no ``$`` expansion), as the model meant it. Anything else, such as a
    second command after the heredoc, returns None.

    >>> extract_patch_from_shell(["bash", "-lc", "cd src && apply_patch <<'EOF'\\nP\\nEOF\\n"])
    ShellPatch(patch='P', workdir='src')
    """
    args = list(argv)
    if not args:
        return None
    if len(args) == 2 and os.path.basename(args[0]) in _PATCH_COMMANDS:
        return ShellPatch(_unwrap_heredoc(args[1]), None)
    if (
        len(args) >= 3
        and os.path.basename(args[0]) in _SHELLS
        and all(option in _SHELL_OPTIONS for option in args[1:-1])
        and any("c" in option and not option.startswith("--") for option in args[1:-1])
    ):
        return _extract_from_script(args[-1])
    return None


def _extract_from_script(script: str) -> ShellPatch | None:
    match = _heredoc_script().match(script)
    if match is None:
        return _extract_quoted_argument(script)
    delimiter = match.group("delimiter")
    if delimiter[0] in "'\"":
        delimiter = delimiter[1:-1]
    delimiter = delimiter.lstrip("\\")
    strip_tabs = match.group("dash") is not None
    lines = script[match.end() :].split("\n")
    body: list[str] = []
    rest: Iterable[str] = ()
    for index, line in enumerate(lines):
        visible = line.lstrip("\t") if strip_tabs else line
        if visible.rstrip() == delimiter:
            rest = lines[index + 1 :]
            break
        body.append(visible)
    else:
        # Like bash, a missing closing delimiter ends the here-document at the end of the script.
        while body and not body[-1].strip():
            body.pop()
    if any(line.strip() for line in rest):
        return None
    workdir = match.group("dir")
    if workdir is not None and workdir[0] in "'\"":
        workdir = workdir[1:-1]
    return ShellPatch("\n".join(body), workdir)


def _extract_quoted_argument(script: str) -> ShellPatch | None:
    try:
        words = shlex.split(script)
    except ValueError:
        return None
    if len(words) != 2 or words[0] not in _PATCH_COMMANDS:
        return None
    from codex.tools.patch.grammar import BEGIN_PATCH

    if not words[1].lstrip().startswith(BEGIN_PATCH):
        return None
    argument = script.strip()[len(words[0]) :].lstrip()
    if not argument.startswith("'") and any(char in argument for char in "$`\\"):
        # The shell would expand or unescape these; only a single-quoted patch is literal.
        return None
    return ShellPatch(words[1], None)
