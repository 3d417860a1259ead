"""`.git`, `.codex` and codex's own state stay read-only wherever they are (issue 14, section 4).

Every test here starts from the attack a model could try: codex started in a subdirectory of a
repository under /tmp (which workspace-write grants), and the sandboxed command reaching up to
``../.git``, into a nested repository, into a worktree's real git directory, or into
CODEX_HOME and the cache. Commands run through the real CLI (``codex sandbox linux``), which
builds the session's policy exactly as a session does, or through the fork server.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from codex_landlock.forkserver import ForkServer
from landlock_fixtures import LANDLOCK_ABI, LINUX

from codex.sandbox import SandboxMode, SandboxPolicy
from tests.conftest import RunCodex
from tests.mock_model import MockModelServer

pytestmark = pytest.mark.skipif(not LINUX or LANDLOCK_ABI < 1, reason="needs Linux 5.13+ with Landlock enabled")

GIT_TIMEOUT_SECONDS = 30
HOOK = "#!/bin/sh\ntouch /tmp/codex-test-hook-ran\n"


def git(*args: str, cwd: Path) -> str:
    """Run git unsandboxed (test setup), ignoring the host's global and system configuration."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    identity = ("-c", "user.name=codex test", "-c", "user.email=test@example.invalid")
    completed = subprocess.run(
        ["git", *identity, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT_SECONDS,
        check=True,
    )
    return completed.stdout


def make_repo(path: Path, commit: bool = False) -> Path:
    """A real repository at ``path`` (with one commit when asked); returns ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    git("init", "-q", str(path), cwd=path)
    if commit:
        (path / "README").write_text("hello\n")
        git("add", "README", cwd=path)
        git("commit", "-q", "-m", "first", cwd=path)
    return path


def sandboxed(run_codex: RunCodex, cwd: Path, script: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """``codex sandbox linux --full-auto -- sh -c SCRIPT`` in ``cwd``: the default workspace-write."""
    result = run_codex("sandbox", "linux", "--full-auto", *flags, "--", "sh", "-c", script, cwd=cwd)
    return subprocess.CompletedProcess(["sh", "-c", script], result.returncode, result.stdout, result.stderr)


def test_the_containing_repositorys_hooks_are_read_only_from_a_subdirectory(
    run_codex: RunCodex, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    sub = repo / "sub"
    sub.mkdir()
    script = f"echo ok > ok.txt && printf '{HOOK}' > ../.git/hooks/pre-commit"
    result = sandboxed(run_codex, sub, script)
    assert (sub / "ok.txt").read_text() == "ok\n", result.stderr  # the workspace itself is writable
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()


def test_git_config_cannot_point_hooks_elsewhere(run_codex: RunCodex, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    sub = repo / "sub"
    sub.mkdir()
    before = (repo / ".git" / "config").read_text()
    result = sandboxed(run_codex, sub, "git config core.hooksPath /tmp/planted-hooks")
    assert result.returncode != 0
    assert (repo / ".git" / "config").read_text() == before
    assert "hooksPath" not in (repo / ".git" / "config").read_text()


def test_nested_repositories_and_codex_dirs_below_the_workspace_are_read_only(
    run_codex: RunCodex, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    nested = make_repo(workspace / "vendor" / "deep" / "lib")
    (workspace / "pkg" / ".codex").mkdir(parents=True)
    (workspace / "pkg" / ".codex" / "config.toml").write_text('model = "o3"\n')
    script = (
        "echo ok > vendor/ok.txt; "
        "echo '[core] fsmonitor = /tmp/x' >> vendor/deep/lib/.git/config; "
        "echo 'sandbox_mode = \"danger-full-access\"' >> pkg/.codex/config.toml"
    )
    result = sandboxed(run_codex, workspace, script)
    assert (workspace / "vendor" / "ok.txt").exists(), result.stderr
    assert result.returncode != 0
    assert "fsmonitor" not in (nested / ".git" / "config").read_text()
    assert (workspace / "pkg" / ".codex" / "config.toml").read_text() == 'model = "o3"\n'


def test_a_nested_repository_cannot_be_moved_out_from_under_its_protection(run_codex: RunCodex, tmp_path: Path) -> None:
    # A rename would take the directory away from the path the policy lists; a later command
    # would then find the moved .git unprotected, plant a hook and move it back.
    workspace = tmp_path / "ws"
    make_repo(workspace / "lib")
    first = sandboxed(run_codex, workspace, "mv lib moved")
    second = sandboxed(run_codex, workspace, f"printf '{HOOK}' > moved/.git/hooks/pre-commit; mv moved lib")
    assert first.returncode != 0 or second.returncode != 0
    assert (workspace / "lib" / ".git").is_dir(), (first.stderr, second.stderr)
    assert not (workspace / "lib" / ".git" / "hooks" / "pre-commit").exists()
    assert not (workspace / "moved").exists()


@pytest.mark.caching
def test_codex_home_and_the_cache_are_read_only_when_they_lie_in_a_writable_root(
    run_codex: RunCodex, tmp_path: Path, codex_home: Path
) -> None:
    # The fixtures put CODEX_HOME and XDG_CACHE_HOME under tmp_path, i.e. under /tmp.
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "codex-py"
    workspace = tmp_path / "ws"
    workspace.mkdir()
    script = (
        f"echo 'sandbox_mode = \"danger-full-access\"' > {codex_home}/config.toml; "
        f"mkdir -p {cache}; echo '{{}}' > {cache}/config-parsed-planted.json"
    )
    result = sandboxed(run_codex, workspace, script)
    assert result.returncode != 0
    assert not (codex_home / "config.toml").exists()
    assert not (cache / "config-parsed-planted.json").exists()
    assert cache.is_dir()  # codex made it before the command ran, so the mount could cover it


def test_allow_git_writes_opens_git_but_not_codex_state(run_codex: RunCodex, tmp_path: Path, codex_home: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    sub = repo / "sub"
    sub.mkdir()
    script = f"echo x > ../.git/allowed; echo x > {codex_home}/planted"
    result = sandboxed(run_codex, sub, script, "-c", "sandbox_workspace_write.allow_git_writes=true")
    assert (repo / ".git" / "allowed").exists(), result.stderr
    assert not (codex_home / "planted").exists()


def test_a_worktrees_git_file_and_its_real_git_directories_are_read_only(run_codex: RunCodex, tmp_path: Path) -> None:
    main = make_repo(tmp_path / "main", commit=True)
    worktree = tmp_path / "wt"
    git("worktree", "add", "-q", str(worktree), cwd=main)
    sub = worktree / "sub"
    sub.mkdir()
    pointer = (worktree / ".git").read_text()
    assert pointer.startswith("gitdir: ")
    gitdir = Path(pointer.removeprefix("gitdir: ").strip())
    script = (
        f"printf '{HOOK}' > {main}/.git/hooks/pre-commit; "
        f"echo '[core] hooksPath = /tmp' >> {gitdir}/config.worktree; "
        "echo 'gitdir: /tmp/elsewhere' > ../.git; "
        "git config core.hooksPath /tmp/planted"
    )
    result = sandboxed(run_codex, sub, script)
    assert result.returncode != 0
    assert not (main / ".git" / "hooks" / "pre-commit").exists()
    assert not (gitdir / "config.worktree").exists()
    assert (worktree / ".git").read_text() == pointer
    assert "planted" not in (main / ".git" / "config").read_text()


def test_the_fork_server_protects_the_containing_repository(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    sub = repo / "sub"
    sub.mkdir()
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, cwd=sub)
    out_read, out_write = os.pipe()
    stdin = os.open(os.devnull, os.O_RDONLY)
    script = f"echo ok > ok.txt; printf '{HOOK}' > ../.git/hooks/pre-commit"
    with ForkServer() as server:
        try:
            pid = server.spawn(
                ["sh", "-c", script], policy, sub, {"PATH": os.environ["PATH"]}, stdin, out_write, out_write
            )
        finally:
            os.close(out_write)
            os.close(stdin)
        returncode = server.wait(pid, timeout=GIT_TIMEOUT_SECONDS)
    with os.fdopen(out_read, "rb") as output:
        text = output.read().decode()
    assert (sub / "ok.txt").exists(), text
    assert returncode != 0
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()


@pytest.mark.parametrize("tool", ["shell", "apply_patch"])
def test_a_session_cannot_plant_a_hook_by_shell_or_by_patch(
    mock_model: MockModelServer, codex_home: Path, run_codex: RunCodex, tmp_path: Path, tool: str
) -> None:
    # The attack as reported: `codex exec` in repo/sub with the default workspace-write sandbox,
    # the model writing ../.git/hooks/pre-commit. The shell runs through the session's fork
    # server; apply_patch is codex writing, judged by the policy's allows_write.
    repo = make_repo(tmp_path / "repo")
    sub = repo / "sub"
    sub.mkdir()
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
    )
    if tool == "shell":
        arguments = {"command": ["sh", "-c", f"echo ok > ok.txt; printf '{HOOK}' > ../.git/hooks/pre-commit"]}
    else:
        hunks = "*** Add File: ok.txt\n+ok\n*** Add File: ../.git/hooks/pre-commit\n+#!/bin/sh\n+touch /tmp/x\n"
        patch = f"*** Begin Patch\n{hunks}*** End Patch\n"
        arguments = {"input": patch}
    mock_model.responses_call(tool, arguments, call_id="c1")
    mock_model.responses_text("done")
    result = run_codex("exec", "-s", "workspace-write", "-a", "on-request", "plant a hook", cwd=sub)
    assert result.returncode == 0, result.stderr
    assert len(mock_model.requests) == 2, result.stderr
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    if tool == "shell":
        assert (sub / "ok.txt").exists(), result.stderr  # the sandbox let the workspace be written


def test_a_workspace_inside_codex_home_is_writable_but_codex_home_is_not(
    run_codex: RunCodex, codex_home: Path
) -> None:
    # `cd ~/.codex/prompts && codex ...` with CODEX_HOME under /tmp: the chosen workspace is
    # writable, config.toml beside it is not. Started in CODEX_HOME itself, nothing there is.
    prompts = codex_home / "prompts"
    make_repo(prompts / "lib")
    script = f"echo ok > ok.txt; echo x >> lib/.git/config; echo x > {codex_home}/config.toml"
    inside = sandboxed(run_codex, prompts, script)
    assert (prompts / "ok.txt").read_text() == "ok\n", inside.stderr
    assert inside.returncode != 0
    assert not (codex_home / "config.toml").exists()
    assert "x" not in (prompts / "lib" / ".git" / "config").read_text().splitlines()
    at_home = sandboxed(run_codex, codex_home, f"echo x > {codex_home}/config.toml")
    assert at_home.returncode != 0
    assert not (codex_home / "config.toml").exists()
