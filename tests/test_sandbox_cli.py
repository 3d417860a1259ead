"""`codex sandbox` as a user runs it, and the core's policy and denial-detection rules."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from codex.sandbox import SandboxMode, SandboxPolicy, sandbox_denial
from tests.conftest import RunCodex

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the Landlock backend runs on Linux only")


@pytest.fixture
def victim_dir() -> Path:
    """A directory outside every writable root (not under /tmp, which workspace-write grants)."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix="codex-victim-", dir="/var/tmp"))


@linux_only
def test_read_only_by_default_blocks_writes(run_codex: RunCodex, tmp_path: Path, victim_dir: Path) -> None:
    target = victim_dir / "x"
    result = run_codex("sandbox", "linux", "--", "touch", str(target), cwd=tmp_path)
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr or "Permission denied" in result.stderr
    assert not target.exists()
    inside = run_codex("sandbox", "linux", "--", "touch", "here", cwd=tmp_path)
    assert inside.returncode != 0 and not (tmp_path / "here").exists()


@linux_only
def test_full_auto_writes_the_workspace_only(run_codex: RunCodex, tmp_path: Path, victim_dir: Path) -> None:
    ok = run_codex("sandbox", "linux", "--full-auto", "--", "touch", "made.txt", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "made.txt").exists()
    denied = run_codex("sandbox", "landlock", "--full-auto", "--", "touch", str(victim_dir / "x"), cwd=tmp_path)
    assert denied.returncode != 0
    assert not (victim_dir / "x").exists()


@linux_only
def test_exit_status_and_environment_belong_to_the_command(run_codex: RunCodex, tmp_path: Path) -> None:
    status = run_codex("sandbox", "linux", "--", "sh", "-c", "exit 7", cwd=tmp_path)
    assert status.returncode == 7
    env = run_codex("sandbox", "linux", "--", "sh", "-c", "echo $CODEX_SANDBOX-$CODEX_SANDBOX_NETWORK_DISABLED")
    assert env.stdout.strip() == "landlock-1"
    net = run_codex(
        "sandbox", "linux", "-s", "workspace-write", "-c", "sandbox_workspace_write.network_access=true",
        "--", "sh", "-c", "echo $CODEX_SANDBOX-${CODEX_SANDBOX_NETWORK_DISABLED:-net}",
    )
    assert net.stdout.strip() == "landlock-net"


def test_unavailable_backend_is_a_clear_error(run_codex: RunCodex, tmp_path: Path) -> None:
    other = "macos" if sys.platform != "darwin" else "linux"
    result = run_codex("sandbox", other, "--", "true", cwd=tmp_path)
    assert result.returncode == 1
    assert "not available here" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_command_is_a_usage_error(run_codex: RunCodex) -> None:
    result = run_codex("sandbox", "linux")
    assert result.returncode == 2
    assert "give the command after `--`" in result.stderr


@linux_only
def test_status_reports_each_backend(run_codex: RunCodex) -> None:
    result = run_codex("sandbox", "status")
    assert result.returncode == 0
    assert "landlock (landlock): available" in result.stdout
    assert "seatbelt (seatbelt): unavailable" in result.stdout
    assert 'sandbox_backend = "auto" picks: landlock' in result.stdout


# ---------------------------------------------------------------- policy rules (pure)


def test_workspace_write_roots_include_cwd_tmp_and_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmpdir = tmp_path / "tmpdir"
    extra = tmp_path / "extra"
    tmpdir.mkdir()
    extra.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    ws = tmp_path / "ws"
    ws.mkdir()
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, ws, [str(extra), "missing-dir"])
    assert policy.writable_roots == (ws, extra, Path("/tmp").resolve(), tmpdir)
    trimmed = SandboxPolicy.build(
        SandboxMode.WORKSPACE_WRITE, ws, exclude_slash_tmp=True, exclude_tmpdir_env_var=True
    )
    assert trimmed.writable_roots == (ws,)
    assert not trimmed.network_access
    assert SandboxPolicy.build(SandboxMode.READ_ONLY, ws).writable_roots == ()


def test_dot_git_and_dot_codex_stay_read_only(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, tmp_path, exclude_slash_tmp=True)
    assert policy.read_only_subpaths == (tmp_path / ".git",)
    assert policy.allows_write(tmp_path / "src" / "a.py")
    assert not policy.allows_write(tmp_path / ".git" / "hooks" / "pre-commit")
    assert not policy.allows_write(tmp_path.parent / "elsewhere")


@pytest.mark.parametrize(
    ("code", "output", "expected"),
    [
        (126, "codex-sandbox: landlock unavailable", "could not be set up"),
        (-signal.SIGSYS, "", "seccomp"),
        (128 + signal.SIGSYS, "", "seccomp"),
        (1, "touch: cannot touch '/x': Read-only file system", "read-only file system"),
        (1, "bash: /etc/x: Permission denied", "permission denied"),
        (2, "curl: (7) Operation not permitted", "operation not permitted"),
        (1, "FAILED tests/test_a.py::test_b", None),
        (2, "usage: tool [-h]", None),
        (127, "bash: nope: command not found", None),
        (0, "Permission denied", None),
    ],
)
def test_denial_is_decided_from_evidence(code: int, output: str, expected: str | None, tmp_path: Path) -> None:
    policy = SandboxPolicy.build(SandboxMode.READ_ONLY, tmp_path)
    verdict = sandbox_denial(code, output, policy)
    if expected is None:
        assert verdict is None
    else:
        assert verdict is not None and expected in verdict


def test_no_denial_is_blamed_on_a_sandbox_that_was_not_there(tmp_path: Path) -> None:
    policy = SandboxPolicy.build(SandboxMode.DANGER_FULL_ACCESS, tmp_path)
    assert sandbox_denial(1, "Permission denied", policy) is None


@linux_only
def test_dot_git_is_read_only_unless_git_writes_are_allowed(run_codex: RunCodex, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    refused = run_codex("sandbox", "linux", "--full-auto", "--", "touch", ".git/index.lock", cwd=tmp_path)
    assert refused.returncode != 0
    assert not (tmp_path / ".git" / "index.lock").exists()
    allowed = run_codex(
        "sandbox", "linux", "--full-auto", "-c", "sandbox_workspace_write.allow_git_writes=true",
        "--", "touch", ".git/index.lock", cwd=tmp_path,
    )
    assert allowed.returncode == 0, allowed.stderr
    assert (tmp_path / ".git" / "index.lock").exists()
    (tmp_path / ".codex").mkdir()
    still = run_codex(
        "sandbox", "linux", "--full-auto", "-c", "sandbox_workspace_write.allow_git_writes=true",
        "--", "touch", ".codex/x", cwd=tmp_path,
    )
    assert still.returncode != 0 and not (tmp_path / ".codex" / "x").exists()


def test_allow_git_writes_only_drops_dot_git_from_the_protected_names(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".codex").mkdir()
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, tmp_path, exclude_slash_tmp=True, allow_git_writes=True)
    assert policy.read_only_subpaths == (tmp_path / ".codex",)
    assert policy.allows_write(tmp_path / ".git" / "index.lock")
