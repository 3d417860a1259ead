"""Properties of the known-safe classifier, checked on generated scripts and against real bash.

- A script built from safe commands is safe, and splits into exactly the commands we built.
- Inserting any redirection or substitution into such a script makes it unsafe.
- Whatever script the classifier calls plain, bash runs no command we did not see and writes no file
  (bash runs it with every command replaced by a recorder, in an empty directory).
- Every forbidden option of a restricted program is caught however it is spelled.
"""

from __future__ import annotations

import collections
import os
import shutil
import string
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex.approval import safe_commands_data
from codex.approval.safe_commands import NotPlainScript, classify, parse_plain_script

# Programs whose every option only reads, so any argument at all keeps them safe.
FREE_PROGRAMS = ["echo", "cat", "ls", "grep", "wc", "head", "printf", "basename"]
# Whole commands of restricted programs that are safe as written.
FIXED_COMMANDS = [
    ["git", "log", "--oneline", "-n", "3"],
    ["git", "--no-pager", "status", "--short"],
    ["git", "branch", "-a"],
    ["sed", "-n", "1,20p", "notes.txt"],
    ["sed", "-n", "/a b/p"],
    ["find", ".", "-name", "*.py", "-type", "f"],
    ["rg", "-n", "needle; rm -rf /", "src"],
    ["sort", "-k", "2", "data.csv"],
    ["uniq", "-c", "input.txt"],
]
SEPARATORS = [" && ", " || ", "; ", ";", " | ", "|", "\n", " &&\n  ", "\n\n"]

# Text an argument may contain: quoting must make all of it literal.
SHELL_TEXT = string.ascii_letters + string.digits + " \t\n;&|<>()$`'\"\\*?[]{}#=~!%^,./:-"
ARGUMENT_TEXT = st.text(
    alphabet=st.sampled_from(SHELL_TEXT)
    | st.characters(min_codepoint=0xA0, max_codepoint=0xFFFF, codec="utf-8"),
    min_size=1,
    max_size=12,
)


def quote(word: str, style: str) -> str:
    """Render `word` so that the shell reads it back literally, in one of several styles."""
    if style == "single" or (style == "backslash" and "\n" in word):
        return "'" + word.replace("'", "'\\''") + "'"
    if style == "double":
        escaped = "".join("\\" + c if c in '\\"$`' else c for c in word)
        return '"' + escaped + '"'
    if style == "backslash":
        # tree-sitter-bash reads a backslash before a blank as a line continuation, so the
        # classifier refuses `\ ` (the safe direction); blanks get single quotes instead.
        return "".join(
            c if c.isalnum() and c.isascii() else "' '" if c == " " else "'\t'" if c == "\t" else "\\" + c
            for c in word
        )
    return word  # "plain": only used for words that need no quoting


def plain_enough(word: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in "_./:,+@%=-") for c in word)


@st.composite
def safe_commands(draw: st.DrawFn) -> list[str]:
    if draw(st.booleans()):
        return list(draw(st.sampled_from(FIXED_COMMANDS)))
    program = draw(st.sampled_from(FREE_PROGRAMS))
    return [program, *draw(st.lists(ARGUMENT_TEXT, max_size=4))]


@st.composite
def safe_scripts(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """(tokens, commands): the script's tokens (words and separators) and the argv of each command."""
    commands = draw(st.lists(safe_commands(), min_size=1, max_size=5))
    tokens: list[str] = []
    for index, command in enumerate(commands):
        if index:
            tokens.append(draw(st.sampled_from(SEPARATORS)))
        for position, word in enumerate(command):
            styles = ["single", "double", "backslash"] + (["plain"] * 3 if plain_enough(word) else [])
            if position:
                tokens.append(" ")
            tokens.append(quote(word, draw(st.sampled_from(styles))))
    return tokens, commands


@given(safe_scripts())
@settings(max_examples=200, deadline=None)
def test_scripts_of_safe_commands_are_safe_and_split_as_built(script: tuple[list[str], list[list[str]]]) -> None:
    tokens, commands = script
    text = "".join(tokens)

    assert parse_plain_script(text) == tuple(tuple(c) for c in commands)
    verdict = classify(["bash", "-lc", text])
    assert verdict.safe, (text, verdict.reason)


DANGEROUS = [
    "> f", ">f", ">> f", "< f", "2>&1", "&> f", ">| f", "<> f", "1>f", "<<EOF", "<<- EOF", "<<< word",
    "$(rm x)", "`rm x`", "$HOME", "${HOME}", "$((1+1))", "$[1+1]", "<(ls)", ">(cat)", "$1", "$@", "$$",
    "$'\\x41'", '$"x"',
]
# What the reason mentions for each kind of insertion (or the script became a syntax error).
EXPLANATIONS = [
    "redirection", "here-", "substitution", "expansion", "`$`", "not valid shell syntax", "incomplete",
    "`&`", "`|&`", "operator", "`>`", "`<`", "`(`", "quoting",
]


@given(safe_scripts(), st.data())
@settings(max_examples=300, deadline=None)
def test_inserting_a_redirection_or_substitution_makes_a_safe_script_unsafe(
    script: tuple[list[str], list[list[str]]], data: st.DataObject
) -> None:
    tokens, _ = script
    fragment = data.draw(st.sampled_from(DANGEROUS))
    where = data.draw(st.integers(min_value=0, max_value=len(tokens)))
    glue = data.draw(st.sampled_from(["", " "]))
    text = "".join([*tokens[:where], glue, fragment, glue, *tokens[where:]])

    verdict = classify(["bash", "-lc", text])

    assert not verdict.safe, text
    assert any(word in verdict.reason for word in EXPLANATIONS), (text, verdict.reason)


# --- differential check against bash -----------------------------------------------------------

# One log per process: the commands of a pipeline run at once, and bash's printf flushes at a
# newline inside an argument, so records written to one shared file could interleave.
RECORDER = r"""
__rec() { local IFS=$'\037'; command printf '%s\036' "$*" >> "$REC_LOG.$BASHPID"; return 0; }
for __n in echo pwd true false test printf cd; do eval "$__n() { __rec $__n \"\$@\"; }"; done
command_not_found_handle() { __rec "$@"; }
"""


class RecordingBash:
    """Runs a script in bash with every command replaced by a recorder of its argv."""

    def __init__(self, bash: str, root: Path) -> None:
        self.bash = bash
        self.root = root
        self.env_file = root / "recorder.sh"
        self.env_file.write_text(RECORDER)

    def run(self, script: str) -> tuple[list[tuple[str, ...]], list[str]]:
        """(argv of each command bash ran, files left in the working directory)."""
        workdir = self.root / "work"
        log = self.root / "log"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir()
        for old in self.root.glob("log.*"):
            old.unlink()
        # PATH leads nowhere, so every external command reaches command_not_found_handle.
        env = {"PATH": "/nonexistent", "REC_LOG": str(log), "BASH_ENV": str(self.env_file), "HOME": "/home-of-test"}
        subprocess.run(
            [self.bash, "--norc", "--noprofile", "-c", script],
            cwd=workdir, env=env, timeout=10, stdin=subprocess.DEVNULL, capture_output=True, check=False,
        )
        logged = b"".join(path.read_bytes() for path in sorted(self.root.glob("log.*")))
        records = logged.decode("utf-8", "surrogateescape").split("\x1e")[:-1]
        return [tuple(record.split("\x1f")) for record in records], sorted(os.listdir(workdir))


@pytest.fixture(scope="module")
def recording_bash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordingBash]:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed here; the differential check needs it")
    yield RecordingBash(bash, tmp_path_factory.mktemp("bash"))


def assert_bash_ran_only_what_we_saw(bash: RecordingBash, script: str) -> None:
    seen = parse_plain_script(script)
    ran, files = bash.run(script)
    pool = list(seen)
    for command in ran:
        # Tilde expansion is the one rewrite we allow: a word starting with `~` becomes a path.
        # An exact match goes first: the logs of several processes come back in pid order, and
        # `ls` from `~ls;ls` must not take the place of `~ls` (a user name that does not exist).
        match = command if command in pool else next((c for c in pool if len(c) == len(command) and all(
            s == r or s.startswith("~") for s, r in zip(c, command, strict=True))), None)
        assert match is not None, f"bash ran {command} from {script!r}; we saw {seen}"
        pool.remove(match)
    assert files == [], f"{script!r} wrote {files}"


@given(safe_scripts())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_bash_runs_exactly_the_commands_of_a_generated_safe_script(
    recording_bash: RecordingBash, script: tuple[list[str], list[list[str]]]
) -> None:
    text = "".join(script[0])
    ran, files = recording_bash.run(text)

    assert collections.Counter(ran) <= collections.Counter(tuple(c) for c in script[1])
    assert files == []


# Shell-significant fragments: random mixes find places where the parser and bash disagree.
FUZZ_PIECES = [
    "ls", "cat", "echo", "find", "rm", "a", "-l", "x.py", "--pre=sh", " ", " ", " ", ";", "&&", "||", "|", "&",
    "\n", ">", "<", "$", "(", ")", "{", "}", "`", "'", '"', "\\", "*", "?", "[", "]", "#", "=", "~", "!",
    "\\\n", ",", "\t", "\r", "；", "\u00a0", "é", "-", "0", "$'", "<<", "EOF", "\"'\"", "'\"'", "\\'", '\\"',
    "%", "^", "@", ":", "..", "/",
]


@given(st.lists(st.sampled_from(FUZZ_PIECES), min_size=1, max_size=14))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_whatever_we_call_plain_bash_runs_as_we_parsed_it(recording_bash: RecordingBash, pieces: list[str]) -> None:
    script = "".join(pieces)
    try:
        parse_plain_script(script)
    except NotPlainScript:
        return  # refused: nothing to compare
    assert_bash_ran_only_what_we_saw(recording_bash, script)


@pytest.mark.parametrize(
    "script",
    [
        "find . -dele\\\nte",  # a line continuation inside a word joins it
        "]find ] ]",  # the grammar once kept `] ]` as one word
        "echo a\\ b 'c\nd' \"e\\\"f\" \\\n  g",
        "ls ~ ~/x",
    ],
)
def test_known_parser_disagreements_stay_fixed(recording_bash: RecordingBash, script: str) -> None:
    try:
        parse_plain_script(script)
    except NotPlainScript:
        return
    assert_bash_ran_only_what_we_saw(recording_bash, script)


# --- option spellings ---------------------------------------------------------------------------

FORBIDDEN = sorted(
    (program, option)
    for program, entry in safe_commands_data.COMMANDS.items()
    for option in entry.get("forbidden_options", {})
)


@st.composite
def spellings(draw: st.DrawFn, option: str) -> str:
    """Ways a user could spell `option` that the program would still read as it."""
    if option.startswith("--"):
        name = option[2:]
        cut = draw(st.integers(min_value=min(2, len(name)), max_value=len(name)))
        value = draw(st.sampled_from(["", "=x", "=/tmp/out"]))
        return "--" + name[:cut] + value
    if len(option) == 2:
        before = draw(st.text(alphabet="abcdefghijklmnpqrsuvwxyz", max_size=2))
        return "-" + before + option[1]
    return option


@given(st.sampled_from(FORBIDDEN), st.data())
@settings(max_examples=200, deadline=None)
def test_forbidden_options_are_caught_however_spelled(option_of: tuple[str, str], data: st.DataObject) -> None:
    program, option = option_of
    spelled = data.draw(spellings(option))
    filler = data.draw(st.lists(st.sampled_from(["file.txt", "-n", "src", "."]), max_size=2))
    position = data.draw(st.integers(min_value=0, max_value=len(filler)))
    argv = [program, *filler[:position], spelled, *filler[position:]]

    verdict = classify(argv)

    assert not verdict.safe, argv
    assert f"`{program} {spelled}`" in verdict.reason
