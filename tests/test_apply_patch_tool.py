"""apply_patch cannot be raced out of the writable roots.

A real background process keeps swapping a directory ``d`` of the workspace with a symlink to
an outside folder while forty ``*** Add File: d/xN.txt`` patches run in parallel through the
tool's own flow (policy check, approval, write). codex writes unsandboxed, so a check and a
write that resolve the path separately would let some files land outside.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codex import events as ev
from codex.approval.policy import ApprovalPolicy, builtin_policies
from codex.errors import PatchError
from codex.sandbox import SandboxMode, SandboxPolicy
from codex.tools.apply_patch import MAX_FILE_BYTES, Resolver
from codex.tools.base import ToolResult
from codex.tools.patch_tool import apply_patch_flow
from codex.tools.shell import run_shell
from tests.conftest import RunCodex
from tests.mock_model import Call, MockModelServer, mock_model  # noqa: F401  (fixture)


class PatchContext:
    """The part of a session the apply_patch flow uses; a person who answers ``answer``."""

    def __init__(
        self,
        cwd: Path,
        policy: SandboxPolicy,
        approval: ApprovalPolicy,
        call_id: str = "p1",
        answer: ev.ReviewDecision = ev.ReviewDecision.DENIED,
        on_ask: Callable[[], None] | None = None,
    ) -> None:
        self.call_id = call_id
        self.cwd = cwd
        self.sandbox_policy = policy
        self.approval_policy = approval
        self.answer = answer
        self.on_ask = on_ask
        self.asked: list[dict[str, dict[str, Any]]] = []
        self.events: list[ev.EventMsg] = []

    def emit(self, msg: ev.EventMsg) -> None:
        self.events.append(msg)

    async def ask_patch_approval(self, changes: dict[str, dict[str, Any]], diff: str, reason: str) -> ev.ApprovalAnswer:
        self.asked.append(changes)
        if self.on_ask is not None:
            self.on_ask()  # what a sandboxed command may do while the person reads the diff
        return ev.ApprovalAnswer("q", self.answer)


def run_flow(text: str, ctx: PatchContext) -> ToolResult:
    return asyncio.run(apply_patch_flow(text, ctx.cwd, ctx))  # type: ignore[arg-type]

SWAPPER = r"""
import os, sys, time
ws, outside, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
os.chdir(ws)


def restore():
    # codex may recreate a missing d at any moment: keep its files (they are inside) and retry.
    for _ in range(1000):
        if os.path.islink("d"):
            os.unlink("d")
        elif os.path.isdir("d"):
            try:
                for name in os.listdir("d"):
                    os.rename(os.path.join("d", name), os.path.join("d.real", name))
                os.rmdir("d")
            except OSError:
                continue
        try:
            os.rename("d.real", "d")
            return
        except OSError:
            continue
    raise SystemExit("could not restore d")


deadline = time.monotonic() + seconds
for _ in range(2_000_000):
    if time.monotonic() > deadline:
        break
    os.rename("d", "d.real")
    try:
        os.symlink(outside, "d")
    except FileExistsError:
        pass
    restore()
print("stopped", flush=True)
"""


ROUNDS, PARALLEL = 8, 40


def race_patch(kind: str, name: str) -> str:
    """One patch of the race: adds, moves into or deletes from ``d``."""
    if kind == "add":
        body = f"*** Add File: d/{name}\n+{name}\n"
    elif kind == "move":
        body = f"*** Update File: {name}\n*** Move to: d/{name}\n"
    else:
        body = f"*** Delete File: d/{name}\n"
    return f"*** Begin Patch\n{body}*** End Patch\n"


async def _patch_all(ws: Path, policy: SandboxPolicy, kind: str, round_: int) -> list[ToolResult | BaseException]:
    async def one(index: int) -> ToolResult:
        ctx = PatchContext(ws, policy, builtin_policies()["never"], call_id=f"r{round_}-{index}")
        return await apply_patch_flow(race_patch(kind, f"x{round_}-{index}.txt"), ws, ctx)  # type: ignore[arg-type]

    return await asyncio.gather(*(one(i) for i in range(PARALLEL)), return_exceptions=True)


@pytest.mark.parametrize("kind", ["add", "move", "delete"])
def test_swapping_a_directory_for_an_outside_symlink_never_lets_a_write_out(tmp_path: Path, kind: str) -> None:
    ws = tmp_path / "ws"
    outside = tmp_path / "outside"
    (ws / "d").mkdir(parents=True)
    outside.mkdir()
    names = [f"x{r}-{i}.txt" for r in range(ROUNDS) for i in range(PARALLEL)]
    if kind == "move":
        for name in names:
            (ws / name).write_text("moved\n")
    if kind == "delete":
        for name in names:
            (ws / "d" / name).write_text("inside\n")
            (outside / name).write_text("bait\n")  # what a redirected delete would remove
    bait = sorted(p.name for p in outside.iterdir())
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, ws, exclude_slash_tmp=True, exclude_tmpdir_env_var=True)
    assert policy.writable_roots == (ws.resolve(),)
    swapper = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, str(ws), str(outside), "4"], stdout=subprocess.PIPE, text=True
    )
    done: list[str] = []
    crashed: list[BaseException] = []
    try:
        started = time.monotonic()
        # Bounded: at most ROUNDS rounds, and no new round once the swapper has stopped.
        for round_ in range(ROUNDS):
            if swapper.poll() is not None or time.monotonic() - started > 3:
                break
            for result in asyncio.run(_patch_all(ws, policy, kind, round_)):
                if isinstance(result, BaseException):
                    crashed.append(result)
                elif result.success:
                    done += [line[2:] for line in result.output.splitlines()[1:]]
    finally:
        out, _ = swapper.communicate(timeout=30)
    assert out == "stopped\n", "the swapper did not run to its end"
    assert sorted(p.name for p in outside.iterdir()) == bait
    assert all((outside / name).read_text() == "bait\n" for name in bait)
    assert (ws / "d").is_dir() and not (ws / "d").is_symlink()
    for name in done:
        if kind == "delete":
            assert not (ws / name).exists(), f"{name} was reported deleted but is still there"
        else:
            assert (ws / name).is_file(), f"{name} was reported written but is not inside the workspace"
    assert crashed == [], "a patch raised instead of answering with a clear result"
    # Some patches must have met the swap in either state; a run that saw none proves little.
    assert done, "no patch was applied at all"


def test_what_the_person_approved_is_what_is_written(tmp_path: Path) -> None:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    (ws / "d").mkdir(parents=True)
    outside.mkdir()

    def swap() -> None:
        os.rename(ws / "d", ws / "d.real")
        os.symlink(outside, ws / "d")

    policy = workspace(ws)
    ctx = PatchContext(ws, policy, builtin_policies()["untrusted"], answer=ev.ReviewDecision.APPROVED, on_ask=swap)
    result = run_flow("*** Begin Patch\n*** Add File: d/a.txt\n+hi\n*** End Patch\n", ctx)
    assert list(ctx.asked[0]) == [str(ws / "d/a.txt")]
    # The write goes to the directory that was shown, wherever it was moved, never through the new link.
    assert result.success, result.output
    assert list(outside.iterdir()) == []
    assert (ws / "d.real/a.txt").read_text() == "hi\n"


# ---------------------------------------------------------------------------------------------
# What is read: regular files only, within the size limit, and only after the policy
# ---------------------------------------------------------------------------------------------

FLOW_RUNNER = r"""
import asyncio, json, resource, sys
from pathlib import Path
# Reading /dev/zero to the end must fail fast here rather than eat the machine's memory.
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from codex import events as ev
from codex.approval.policy import builtin_policies
from codex.sandbox import SandboxMode, SandboxPolicy
from codex.tools.patch_tool import apply_patch_flow
patch, cwd, mode, approval = sys.argv[1], Path(sys.argv[2]), SandboxMode(sys.argv[3]), sys.argv[4]


class Context:
    call_id = "p1"
    cwd = Path(sys.argv[2])
    sandbox_policy = SandboxPolicy.build(mode, cwd, exclude_slash_tmp=True, exclude_tmpdir_env_var=True)
    approval_policy = builtin_policies()[approval]
    asked = 0

    def emit(self, msg):
        pass

    async def ask_patch_approval(self, changes, diff, reason):
        Context.asked += 1
        return ev.ApprovalAnswer("q", ev.ReviewDecision.APPROVED)


try:
    result = asyncio.run(apply_patch_flow(patch, cwd, Context()))
    print(json.dumps({"output": result.output, "success": result.success, "asked": Context.asked}))
except BaseException as error:
    print(json.dumps({"raised": f"{type(error).__name__}: {error}"}))
"""


def run_flow_in_child(text: str, cwd: Path, mode: str, approval: str, unblock: Path | None = None) -> dict[str, Any]:
    """The real flow in a child process: a hang or a runaway read cannot take the suite down."""
    child = subprocess.Popen(
        [sys.executable, "-c", FLOW_RUNNER, text, str(cwd), mode, approval], stdout=subprocess.PIPE, text=True
    )
    try:
        out, _ = child.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        if unblock is not None:
            # Give a reader stuck on the FIFO its end of file, so the child can be reaped.
            os.close(os.open(unblock, os.O_WRONLY | os.O_NONBLOCK))
        child.kill()
        child.communicate(timeout=20)
        pytest.fail("apply_patch did not return within 20 s: it blocked")
    assert out, "the child printed nothing"
    return dict(json.loads(out))


def test_updating_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "p")
    text = "*** Begin Patch\n*** Update File: p\n@@\n-a\n+b\n*** End Patch\n"
    result = run_flow_in_child(text, tmp_path, "workspace-write", "never", unblock=tmp_path / "p")
    assert result.get("success") is False, result
    assert "p: is a FIFO (named pipe), not a regular file" in result["output"]


@pytest.mark.parametrize("approval", ["never", "on-request"])
def test_dev_zero_under_read_only_is_never_read(tmp_path: Path, approval: str) -> None:
    text = "*** Begin Patch\n*** Update File: /dev/zero\n@@\n-a\n+b\n*** End Patch\n"
    result = run_flow_in_child(text, tmp_path, "read-only", approval)
    assert result.get("success") is False, result
    if approval == "never":
        # The policy refuses before planning, so the device is not even opened.
        assert "rejected without asking" in result["output"]
        assert "/dev/zero is outside the writable roots" in result["output"]
    else:
        assert "/dev/zero: is a character device, not a regular file" in result["output"]
        assert result["asked"] == 0


def test_a_file_over_the_size_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    big = tmp_path / "big.log"
    with open(big, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk, and is never read
    ctx = PatchContext(tmp_path, workspace(tmp_path), builtin_policies()["never"])
    result = run_flow("*** Begin Patch\n*** Update File: big.log\n@@\n-a\n+b\n*** End Patch\n", ctx)
    assert not result.success
    assert f"big.log: is {MAX_FILE_BYTES + 1:,} bytes, over apply_patch's limit" in result.output
    assert "32 MiB" in result.output and "shell command" in result.output
    assert big.stat().st_size == MAX_FILE_BYTES + 1


def workspace(root: Path, **options: Any) -> SandboxPolicy:
    return SandboxPolicy.build(
        SandboxMode.WORKSPACE_WRITE, root, exclude_slash_tmp=True, exclude_tmpdir_env_var=True, **options
    )


# ---------------------------------------------------------------------------------------------
# Odd paths end as a clear failed result, never as an exception
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("bad\ud800.txt", "cannot be part of a file name ('\\ud800')"),
        ("nul\0.txt", "contains a NUL character"),
        (".", "is a directory"),
        ("sub/..", "is a directory"),
        ("/", "is a directory"),
        ("a.txt/inner.txt", "a.txt is a file, not a directory"),
        ("loop/x.txt", "too many levels of symbolic links"),
        ("x" * 300 + ".txt", "File name too long"),
    ],
)
def test_odd_paths_give_the_model_a_clear_error(tmp_path: Path, path: str, fragment: str) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "sub").mkdir()
    os.symlink("loop", tmp_path / "loop")
    ctx = PatchContext(tmp_path, workspace(tmp_path), builtin_policies()["on-request"])
    result = run_flow(f"*** Begin Patch\n*** Add File: {path}\n+x\n*** End Patch\n", ctx)
    assert not result.success
    assert fragment in result.output
    assert result.output.startswith("error: patch not applied")


def test_a_deleted_working_directory_gives_a_clear_error(tmp_path: Path) -> None:
    cwd = tmp_path / "gone"
    cwd.mkdir()
    policy = workspace(cwd)
    cwd.rmdir()
    ctx = PatchContext(cwd, policy, builtin_policies()["never"])
    result = run_flow("*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch\n", ctx)
    assert not result.success
    assert result.output.startswith("error: patch not applied")
    assert f"the writable root {cwd} does not exist any more" in result.output
    assert not cwd.exists()


def test_a_patch_through_the_shell_tool_with_a_looping_workdir_gives_a_clear_error(tmp_path: Path) -> None:
    os.symlink("loop", tmp_path / "loop")
    ctx = PatchContext(tmp_path, workspace(tmp_path), builtin_policies()["never"])
    script = "cd loop && apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch\nEOF\n"
    by_cd = asyncio.run(run_shell({"command": ["bash", "-lc", script]}, ctx))  # type: ignore[arg-type]
    plain = "*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch\n"
    by_workdir = asyncio.run(
        run_shell({"command": ["apply_patch", plain], "workdir": "loop"}, ctx)  # type: ignore[arg-type]
    )
    for result in (by_cd, by_workdir):
        assert not result.success
        assert "too many levels of symbolic links" in result.output


# ---------------------------------------------------------------------------------------------
# Symlinks: followed only to where the policy lets codex write
# ---------------------------------------------------------------------------------------------


def test_a_final_symlink_to_an_outside_file_is_not_written_through(tmp_path: Path) -> None:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("a\n")
    os.symlink(outside / "secret.txt", ws / "link.txt")
    os.symlink(outside / "new.txt", ws / "dangling.txt")
    ctx = PatchContext(ws, workspace(ws), builtin_policies()["never"])
    update = run_flow("*** Begin Patch\n*** Update File: link.txt\n@@\n-a\n+b\n*** End Patch\n", ctx)
    add = run_flow("*** Begin Patch\n*** Add File: dangling.txt\n+x\n*** End Patch\n", ctx)
    assert not update.success and f"{outside / 'secret.txt'} is outside the writable roots" in update.output
    assert not add.success and f"{outside / 'new.txt'} is outside the writable roots" in add.output
    assert (outside / "secret.txt").read_text() == "a\n"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    # Deleting the link removes the link itself, which is inside.
    delete = run_flow("*** Begin Patch\n*** Delete File: link.txt\n*** End Patch\n", ctx)
    assert delete.success, delete.output
    assert not os.path.lexists(ws / "link.txt") and (outside / "secret.txt").read_text() == "a\n"


def test_a_symlink_inside_the_workspace_is_still_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real/a.txt").write_text("a\n")
    os.symlink("real", tmp_path / "alias")
    ctx = PatchContext(tmp_path, workspace(tmp_path), builtin_policies()["never"])
    result = run_flow("*** Begin Patch\n*** Update File: alias/a.txt\n@@\n-a\n+b\n*** End Patch\n", ctx)
    assert result.output == "Success. Updated the following files:\nM real/a.txt\n"
    assert (tmp_path / "real/a.txt").read_text() == "b\n"


# ---------------------------------------------------------------------------------------------
# .git and .codex stay protected wherever they are below a writable root
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "init", "-q", str(root / "sub/nested")], check=True)
    (root / "sub/.codex").mkdir()
    (root / "sub/.codex/config.toml").write_text("x = 1\n")
    return root


@pytest.mark.parametrize(
    "body",
    [
        "*** Add File: ../.git/hooks/pre-commit\n+#!/bin/sh\n",
        "*** Update File: nested/.git/config\n@@\n+[core]\n+\thooksPath = /tmp/evil\n",
        "*** Update File: .codex/config.toml\n@@\n-x = 1\n+x = 2\n",
        "*** Delete File: nested/.git/HEAD\n",
        "*** Update File: nested/.git/description\n*** Move to: moved.txt\n",
    ],
)
def test_protected_directories_below_a_writable_root_are_refused(repo: Path, body: str) -> None:
    before = snapshot(repo)
    # The default workspace-write policy: cwd in repo/sub, /tmp (which holds the repo) writable.
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, repo / "sub")
    assert any(root in repo.parents for root in policy.writable_roots), "the test needs /tmp to be a root"
    ctx = PatchContext(repo / "sub", policy, builtin_policies()["never"])
    result = run_flow(f"*** Begin Patch\n{body}*** End Patch\n", ctx)
    assert not result.success
    assert "rejected without asking" in result.output
    assert "is inside a protected" in result.output
    assert snapshot(repo) == before


def test_allow_git_writes_drops_only_dot_git(repo: Path) -> None:
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, repo / "sub", allow_git_writes=True)
    ctx = PatchContext(repo / "sub", policy, builtin_policies()["never"])
    git = run_flow("*** Begin Patch\n*** Add File: nested/.git/info/note\n+ok\n*** End Patch\n", ctx)
    codex = run_flow("*** Begin Patch\n*** Add File: .codex/note\n+no\n*** End Patch\n", ctx)
    assert git.success, git.output
    assert (repo / "sub/nested/.git/info/note").read_text() == "ok\n"
    assert not codex.success and "protected .codex directory" in codex.output


def test_a_person_may_still_approve_a_write_into_dot_git(repo: Path) -> None:
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, repo / "sub")
    ctx = PatchContext(repo / "sub", policy, builtin_policies()["on-request"], answer=ev.ReviewDecision.APPROVED)
    result = run_flow("*** Begin Patch\n*** Add File: nested/.git/info/note\n+ok\n*** End Patch\n", ctx)
    assert len(ctx.asked) == 1 and str(repo / "sub/nested/.git/info/note") in ctx.asked[0]
    assert result.success
    assert (repo / "sub/nested/.git/info/note").read_text() == "ok\n"


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
        for p in sorted(root.rglob("*"))
    }


# ---------------------------------------------------------------------------------------------
# Through the real CLI: `codex exec` against the mock model
# ---------------------------------------------------------------------------------------------


def configure(codex_home: Path, mock: MockModelServer) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
    )


def outputs(mock: MockModelServer) -> dict[str, str]:
    return {
        item["call_id"]: item["output"]
        for request in mock.requests
        for item in request.json["input"]
        if item.get("type") == "function_call_output"
    }


def test_exec_survives_a_patch_path_with_a_lone_surrogate(
    mock_model: MockModelServer, codex_home: Path, tmp_path: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model)
    ws = tmp_path / "ws"
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    # Raw JSON text: the escape reaches codex as a lone surrogate inside a str.
    arguments = json.dumps({"input": "*** Begin Patch\n*** Add File: bad\ud800.txt\n+x\n*** End Patch\n"})
    assert "\\ud800" in arguments
    mock_model.responses_call("apply_patch", arguments, call_id="c1")
    mock_model.responses_text("I will pick another name.")

    result = run_codex("exec", "-s", "workspace-write", "write it", cwd=ws, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "I will pick another name.\n"
    assert "cannot be part of a file name" in outputs(mock_model)["c1"]
    assert sorted(p.name for p in ws.iterdir()) == [".git"]


def test_exec_in_a_subdirectory_cannot_plant_a_git_hook(
    mock_model: MockModelServer, codex_home: Path, repo: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model)
    hook = "*** Begin Patch\n*** Add File: ../.git/hooks/pre-commit\n+#!/bin/sh\n+touch /tmp/pwned\n*** End Patch\n"
    nested = "*** Begin Patch\n*** Update File: nested/.git/config\n@@\n+[core]\n+\tfsmonitor = /tmp/x\n*** End Patch\n"
    mock_model.responses_calls(Call("apply_patch", {"input": hook}, "c1"), Call("apply_patch", {"input": nested}, "c2"))
    mock_model.responses_text("blocked")
    config_before = (repo / "sub/nested/.git/config").read_bytes()

    # The default configuration: workspace-write in repo/sub, with /tmp (which holds the repo) writable.
    result = run_codex("exec", "-s", "workspace-write", "plant a hook", cwd=repo / "sub", timeout=60)

    assert result.returncode == 0, result.stderr
    assert not (repo / ".git/hooks/pre-commit").exists()
    assert (repo / "sub/nested/.git/config").read_bytes() == config_before
    told = outputs(mock_model)
    assert f"{repo / '.git/hooks/pre-commit'} is inside a protected .git directory" in told["c1"]
    assert f"{repo / 'sub/nested/.git/config'} is inside a protected .git directory" in told["c2"]


def test_a_chain_of_symlinks_is_followed_to_the_file_and_judged_there(tmp_path: Path) -> None:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    (ws / "real.txt").write_text("a\n")
    (outside / "far.txt").write_text("a\n")
    os.symlink("real.txt", ws / "one")
    os.symlink("one", ws / "two")
    os.symlink(outside / "far.txt", ws / "hop")
    os.symlink("hop", ws / "inside-to-outside")
    ctx = PatchContext(ws, workspace(ws), builtin_policies()["never"])
    inside = run_flow("*** Begin Patch\n*** Update File: two\n@@\n-a\n+b\n*** End Patch\n", ctx)
    assert inside.output == "Success. Updated the following files:\nM real.txt\n"
    assert (ws / "real.txt").read_text() == "b\n" and os.readlink(ws / "two") == "one"
    out = run_flow("*** Begin Patch\n*** Update File: inside-to-outside\n@@\n-a\n+b\n*** End Patch\n", ctx)
    assert not out.success and f"{outside / 'far.txt'} is outside the writable roots" in out.output
    assert (outside / "far.txt").read_text() == "a\n"


def test_closing_the_resolver_waits_for_the_worker_that_still_writes(tmp_path: Path) -> None:
    # A cancelled tool call leaves its worker thread running: the descriptors it writes through
    # must stay open (a reused descriptor number would send the write elsewhere).
    started, release = threading.Event(), threading.Event()
    seen: list[bool] = []
    resolver = Resolver()
    location = resolver.locate("a.txt", tmp_path)

    def work() -> None:
        started.set()
        release.wait(timeout=30)
        seen.append(stat.S_ISDIR(os.fstat(location.dir_fd).st_mode))

    worker = threading.Thread(target=resolver.run, args=(work,))
    worker.start()
    assert started.wait(timeout=30)
    resolver.close()  # what leaving the flow's `with` does on cancellation
    release.set()
    worker.join(timeout=30)
    assert seen == [True]
    with pytest.raises(PatchError, match="already closed"):
        _ = location.dir_fd
