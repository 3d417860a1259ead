"""``codex exec`` reads its command line without click exactly as click would, or leaves it to click.

The property: whenever ``quick_parse.parse`` answers, click parses the same words into the same
parameters. Whenever click would complain or print help, ``parse`` declines (returns None), so
the user sees click's message. Command lines are generated from the real option declarations,
their values (good and bad choices, existing and missing paths) and positional words.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex.cli.exec_cmd import exec_command
from codex.cli.exec_run import EXEC_OPTIONS
from codex.cli.main import cli
from codex.cli.options import AGENT_OPTIONS
from codex.cli.quick_parse import parse

SPECS = (*AGENT_OPTIONS, *EXEC_OPTIONS)


def click_params(argv: list[str]) -> dict[str, Any] | None:
    """What click makes of ``codex exec ARGV`` (None when it refuses or prints help)."""
    with cli.make_context("codex", [], resilient_parsing=True) as root:
        try:
            with exec_command.make_context("exec", list(argv), parent=root) as ctx:
                return dict(ctx.params)
        except (click.exceptions.Exit, click.ClickException):
            return None


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("places")
    (root / "dir").mkdir()
    (root / "file.txt").write_text("x")
    return {"dir": str(root / "dir"), "file": str(root / "file.txt"), "missing": str(root / "missing.txt")}


def words(places: dict[str, str]) -> st.SearchStrategy[list[str]]:
    decls = [decl for spec in SPECS for decl in spec.decls]
    values = ["read-only", "workspace-write", "bogus", "always", "never", "auto", "o3", "a=1", "-", "--",
              "-x", "", *places.values()]
    short_flags = [decl[1] for spec in SPECS if spec.kind == "flag" for decl in spec.decls if len(decl) == 2]
    short_any = [decl[1] for spec in SPECS for decl in spec.decls if len(decl) == 2]
    word = st.one_of(
        st.sampled_from(decls),
        st.sampled_from(values),
        st.sampled_from(["hello", "resume", "fix the test", "-h", "--help", "--nope", "-Z", "--json=1"]),
        st.builds(
            lambda d, v: f"{d}={v}", st.sampled_from([d for d in decls if d.startswith("--")]), st.sampled_from(values)
        ),
        st.builds(lambda flags, last, v: "-" + "".join(flags) + last + v,
                  st.lists(st.sampled_from(short_flags), max_size=2), st.sampled_from(short_any),
                  st.sampled_from(["", "read-only", "o3", places["dir"]])),
    )
    return st.lists(word, max_size=8)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_answers_only_what_click_answers_the_same_way(places: dict[str, str], data: st.DataObject) -> None:
    argv = data.draw(words(places))
    ours = parse(SPECS, argv)
    if ours is not None:
        assert ours == click_params(argv), argv


@pytest.mark.parametrize(
    "argv",
    [
        ["fix the failing test"],
        ["--skip-git-repo-check", "-s", "read-only", "go"],
        ["go", "-s", "workspace-write", "--json"],
        ["--full-auto", "-m", "o3", "-c", "a=1", "-c", "b=2", "do", "it"],
        ["-ymo3", "--sandbox=danger-full-access", "--color", "never", "x"],
        ["resume", "--last", "continue"],
        ["-", "--", "-s", "is", "part", "of", "the", "prompt"],
    ],
)
def test_plain_command_lines_need_no_click(argv: list[str], places: dict[str, str]) -> None:
    ours = parse(SPECS, argv)
    assert ours is not None
    assert ours == click_params(argv)


@pytest.mark.parametrize(
    "argv",
    [["-h"], ["--help"], ["--nope"], ["-s", "bogus", "x"], ["-m"], ["--json=1"], ["-C", "/no/such/dir"], ["-Z"]],
)
def test_what_click_must_report_is_left_to_click(argv: list[str]) -> None:
    assert parse(SPECS, argv) is None


def test_paths_are_converted_like_click(places: dict[str, str]) -> None:
    for argv in (["-C", places["dir"], "x"], ["-o", places["missing"], "x"], ["-o", places["file"], "x"]):
        ours = parse(SPECS, argv)
        assert ours is not None and ours == click_params(argv)
    # -o stays text (a trailing slash must survive); exec checks it before the task starts
    assert parse(SPECS, ["-o", places["dir"] + "/", "x"]) == click_params(["-o", places["dir"] + "/", "x"])
    assert parse(SPECS, ["-C", places["file"], "x"]) is None


def test_a_plain_exec_does_not_import_click(tmp_path: Path) -> None:
    """The point of the quick path: `codex exec` with a plain command line never loads click.

    The run stops early (no prompt on a terminal-less stdin is fine: it fails before the model),
    which is enough to see what the command line cost.
    """
    probe = (
        "import sys\n"
        "from codex.cli.entry import main\n"
        "code = main(['exec', '--skip-git-repo-check', '-s', 'read-only', '--no-such-thing-here'])\n"
        "first = 'click' in sys.modules\n"
        "code = main(['exec', '--skip-git-repo-check', '-C', sys.argv[1]])\n"
        "print(first, 'click' in sys.modules, code)\n"
    )
    env = {**os.environ, "CODEX_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=60)
    # The unknown option went to click (which reported it); so click is loaded by then. A fresh
    # process for the plain line shows the quick path alone.
    assert done.stdout.split()[0] == "True", done.stderr
    plain = (
        "import sys\n"
        "from codex.cli.entry import main\n"
        "code = main(['exec', '--skip-git-repo-check', '-C', sys.argv[1], '-'])\n"
        "print('click' in sys.modules, code)\n"
    )
    done = subprocess.run([sys.executable, "-c", plain, str(tmp_path)], capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=60)
    assert done.stdout.split() == ["False", "2"], done.stdout + done.stderr
    assert "the prompt is empty" in done.stderr or "no prompt given" in done.stderr
