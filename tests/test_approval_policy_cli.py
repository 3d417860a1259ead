"""An approval policy that names no registered policy is an error wherever it is given, and
`codex exec -a POLICY` says that exec never asks (it used to accept and ignore both silently)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PluginSite, RunCodex
from tests.mock_model import MockModelServer, mock_model  # noqa: F401  (fixture)

KNOWN = "expected one of never, on-failure, on-request, untrusted"


@pytest.fixture
def mock_config(codex_home: Path, mock_model: MockModelServer) -> Path:
    path = codex_home / "config.toml"
    path.write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml(request_max_retries=0, stream_max_retries=0),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (
            ["-c", "approval_policy=sometimes", "exec", "hi"],
            1,
            f'-c approval_policy=sometimes: {KNOWN}; got "sometimes"',
        ),
        (["exec", "-a", "sometimes", "hi"], 2, f'-a/--ask-for-approval: {KNOWN}; got "sometimes"'),
        (["-a", "sometimes", "exec", "hi"], 2, f'-a/--ask-for-approval: {KNOWN}; got "sometimes"'),
        (["-a", "sometimes", "hi"], 2, f'-a/--ask-for-approval: {KNOWN}; got "sometimes"'),
    ],
    ids=["-c", "exec -a", "-a exec", "interactive -a"],
)
def test_an_unknown_policy_on_the_command_line_stops_before_the_model_is_asked(
    args: list[str], status: int, message: str,
    mock_config: Path, mock_model: MockModelServer, git_workspace: Path, run_codex: RunCodex,
) -> None:
    mock_model.responses_text("should not be asked")
    result = run_codex(*args, cwd=git_workspace)
    assert result.returncode == status, result.stderr
    assert result.stderr.strip().endswith(message)
    assert mock_model.requests == []


def test_an_unknown_policy_in_config_toml_names_the_file_and_line(
    mock_config: Path, mock_model: MockModelServer, git_workspace: Path, run_codex: RunCodex
) -> None:
    mock_config.write_text('approval_policy = "on_request"\n' + mock_config.read_text(encoding="utf-8"))
    mock_model.responses_text("should not be asked")
    result = run_codex("exec", "hi", cwd=git_workspace)
    assert result.returncode == 1
    assert f'{mock_config}:1: approval_policy: {KNOWN}; got "on_request"' in result.stderr
    assert mock_model.requests == []


def test_an_unknown_policy_in_any_profile_is_an_error(
    mock_config: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    mock_config.write_text(mock_config.read_text(encoding="utf-8") + '[profiles.ci]\napproval_policy = "yes"\n')
    result = run_codex("config", "show", cwd=git_workspace)
    assert result.returncode == 1
    assert f'profiles.ci.approval_policy: {KNOWN}; got "yes"' in result.stderr


def test_config_set_refuses_an_unknown_policy_and_keeps_the_file(mock_config: Path, run_codex: RunCodex) -> None:
    before = mock_config.read_text(encoding="utf-8")
    result = run_codex("config", "set", "approval_policy", "always")
    assert result.returncode == 1
    assert f'approval_policy: {KNOWN}; got "always"' in result.stderr
    assert mock_config.read_text(encoding="utf-8") == before


def test_a_policy_a_plugin_registers_is_known(plugin_site: PluginSite, run_codex: RunCodex) -> None:
    plugin_site.add(
        "paranoid",
        """
        from codex.hookspecs import hookimpl

        class Paranoid:
            name = "paranoid"
            description = "refuse everything"
            offers_escalation = False

        @hookimpl
        def codex_approval_policies():
            return {"paranoid": Paranoid()}
        """,
    )
    result = run_codex("-a", "paranoid", "config", "show", env=plugin_site.env)
    assert result.returncode == 0, result.stderr
    assert 'approval_policy = "paranoid"  # from --ask-for-approval' in result.stdout
    unknown = run_codex("-a", "sometimes", "config", "show", env=plugin_site.env)
    assert "expected one of never, on-failure, on-request, paranoid, untrusted" in unknown.stderr


@pytest.mark.parametrize("how", [["-a", "untrusted"], ["-c", "approval_policy=untrusted"]])
def test_exec_says_it_never_asks_and_runs(
    how: list[str], mock_config: Path, mock_model: MockModelServer, git_workspace: Path, run_codex: RunCodex
) -> None:
    mock_model.responses_text("ran anyway")
    result = run_codex("exec", *how, "hi", cwd=git_workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ran anyway\n"
    notes = [line for line in result.stderr.splitlines() if line.startswith("codex: note:")]
    assert notes == [
        "codex: note: exec never asks for approval, so approval policy 'untrusted' does not apply: commands "
        "that would need approval are refused and the model is told why; choose what may run unasked with "
        "-s/--sandbox or --full-auto"
    ]
    assert "approval: never" in result.stderr  # the header says what is in force


def test_exec_with_a_policy_from_config_toml_says_nothing(
    mock_config: Path, mock_model: MockModelServer, git_workspace: Path, run_codex: RunCodex
) -> None:
    mock_config.write_text('approval_policy = "untrusted"\n' + mock_config.read_text(encoding="utf-8"))
    mock_model.responses_text("quiet")
    result = run_codex("exec", "hi", cwd=git_workspace)
    assert result.returncode == 0, result.stderr
    assert "codex: note:" not in result.stderr
