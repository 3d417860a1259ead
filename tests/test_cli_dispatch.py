"""What the first word of `codex ...` means: a command, an alias, a typo, a peer command, or a prompt.

The real CLI runs in a subprocess against the mock model, so "became a prompt" is observed as a
request the model received, and "did not" as an exit status 2 with no request at all.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RunCodex
from tests.mock_model import MockModelServer, mock_model  # noqa: F401  (fixture)


def user_text(mock: MockModelServer) -> str:
    """The last user message of the first request the model received."""
    body = mock.requests[0].json
    messages = [item for item in body["input"] if item.get("role") == "user"]
    return str(messages[-1]["content"][0]["text"])


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["exce", "hi"], "did you mean `codex exec`?"),
        (["complet"], "did you mean `codex completion`?"),
        (["resum"], "did you mean `codex resume`?"),
        (["configure", "the", "linter"], "did you mean `codex config`?"),
        (["cloud"], "Rust Codex CLI command"),
        (["apply"], "Rust Codex CLI command"),
        (["app-server"], "did you mean `codex mcp-server`?"),
        (["Exec", "hi"], "did you mean `codex exec`?"),
    ],
)
def test_a_word_that_looks_like_a_command_is_an_error_not_a_prompt(
    argv: list[str], suggestion: str, mock_model_config: MockModelServer, git_workspace: Path, run_codex: RunCodex
) -> None:
    result = run_codex(*argv, cwd=git_workspace)
    assert result.returncode == 2, result.stderr
    assert suggestion in result.stderr
    assert f"codex -- {argv[0]} ..." in result.stderr  # how to send it as a prompt after all
    assert "Traceback" not in result.stderr
    assert mock_model_config.requests == []


@pytest.mark.parametrize(
    "argv",
    [["fix the failing test"], ["fix", "the", "failing", "test"], ["hello"], ["--", "exce", "hi"], ["--", "cloud"]],
    ids=["quoted", "words", "one-word", "dashdash-typo", "dashdash-peer"],
)
def test_a_prompt_starts_a_session(
    argv: list[str], mock_model_config: MockModelServer, git_workspace: Path, run_codex: RunCodex
) -> None:
    mock_model_config.responses_text("on it")
    result = run_codex(*argv, cwd=git_workspace)
    assert result.returncode == 0, result.stderr
    assert "on it" in result.stdout
    expected = " ".join(word for word in argv if word != "--")
    assert user_text(mock_model_config) == expected


@pytest.mark.parametrize("before", [[], ["-m", "mock-model"]], ids=["fast-path", "click"])
def test_e_is_exec(
    before: list[str], mock_model_config: MockModelServer, git_workspace: Path, run_codex: RunCodex
) -> None:
    mock_model_config.responses_text("exec answered")
    result = run_codex(*before, "e", "hi", cwd=git_workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "exec answered\n"  # exec's stdout: the answer and nothing else
    assert user_text(mock_model_config) == "hi"


def test_help_says_how_to_force_a_prompt_and_names_the_alias(run_codex: RunCodex) -> None:
    result = run_codex("--help")
    assert "codex -- review my changes" in result.stdout
    assert "(alias: e)" in result.stdout
    assert "Usage: codex [OPTIONS] [PROMPT]... | COMMAND [ARGS]..." in result.stdout


def test_plugin_commands_are_matched_too(run_codex: RunCodex) -> None:
    # the example plugin (installed with the test extras) adds `example-hello`
    result = run_codex("example-helo")
    assert result.returncode == 2
    assert "did you mean `codex example-hello`?" in result.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_for_each_shell(shell: str, run_codex: RunCodex) -> None:
    result = run_codex("completion", shell)
    assert result.returncode == 0, result.stderr
    assert "_CODEX_COMPLETE" in result.stdout
    assert f"{shell}_complete" in result.stdout


def test_completion_of_an_unknown_shell_is_a_usage_error(run_codex: RunCodex) -> None:
    result = run_codex("completion", "tcsh")
    assert result.returncode == 2
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in result.stderr


def _complete(words: str, cword: int) -> list[str]:
    """Ask codex for bash completions the way the generated script does (its env protocol)."""
    env = {**os.environ, "_CODEX_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    completed = subprocess.run(
        [sys.executable, "-m", "codex"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.splitlines()


def test_completion_protocol_offers_commands_and_options(codex_home: Path) -> None:
    assert "plain,exec" in _complete("codex ex", 1)
    assert "plain,example-hello" in _complete("codex ex", 1)  # plugin commands too
    assert _complete("codex exec --col", 2) == ["plain,--color"]
    assert "plain,always" in _complete("codex exec --color ", 3)


def test_bash_completes_codex_ex_to_exec(codex_home: Path) -> None:
    """The generated script, sourced into a real bash, fills COMPREPLY by calling codex back."""
    script_dir = Path(sys.executable).parent
    assert (script_dir / "codex").exists(), "the codex console script is installed beside python"
    program = (
        'source <(codex completion bash); COMP_WORDS=(codex ex); COMP_CWORD=1; '
        '_codex_completion codex; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    env = {**os.environ, "PATH": f"{script_dir}{os.pathsep}{os.environ['PATH']}"}
    completed = subprocess.run(
        ["bash", "-c", program], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert "exec" in completed.stdout.split(), shlex.quote(completed.stdout)
