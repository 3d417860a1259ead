"""apply_patch cannot be raced out of the writable roots.

A real background process keeps swapping a directory ``d`` of the workspace with a symlink to
an outside folder while forty ``*** Add File: d/xN.txt`` patches run in parallel through the
tool's own flow (policy check, approval, write). codex writes unsandboxed, so a check and a
write that resolve the path separately would let some files land outside.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from codex import events as ev
from codex.approval.policy import ApprovalPolicy, builtin_policies
from codex.sandbox import SandboxMode, SandboxPolicy
from codex.tools.base import ToolResult
from codex.tools.patch_tool import apply_patch_flow


class PatchContext:
    """The part of a session the apply_patch flow uses; a person who answers ``answer``."""

    def __init__(
        self,
        cwd: Path,
        policy: SandboxPolicy,
        approval: ApprovalPolicy,
        call_id: str = "p1",
        answer: ev.ReviewDecision = ev.ReviewDecision.DENIED,
    ) -> None:
        self.call_id = call_id
        self.cwd = cwd
        self.sandbox_policy = policy
        self.approval_policy = approval
        self.answer = answer
        self.asked: list[dict[str, dict[str, Any]]] = []
        self.events: list[ev.EventMsg] = []

    def emit(self, msg: ev.EventMsg) -> None:
        self.events.append(msg)

    async def ask_patch_approval(self, changes: dict[str, dict[str, Any]], diff: str, reason: str) -> ev.ApprovalAnswer:
        self.asked.append(changes)
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


async def _patch_all(
    ctx_cwd: Path, policy: SandboxPolicy, count: int, round_: int
) -> list[ToolResult | BaseException]:
    async def one(index: int) -> ToolResult:
        ctx = PatchContext(ctx_cwd, policy, builtin_policies()["never"], call_id=f"r{round_}-{index}")
        text = f"*** Begin Patch\n*** Add File: d/x{round_}-{index}.txt\n+{index}\n*** End Patch\n"
        return await apply_patch_flow(text, ctx_cwd, ctx)  # type: ignore[arg-type]

    return await asyncio.gather(*(one(i) for i in range(count)), return_exceptions=True)


def test_swapping_a_directory_for_an_outside_symlink_never_lets_a_file_out(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    outside = tmp_path / "outside"
    (ws / "d").mkdir(parents=True)
    outside.mkdir()
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, ws, exclude_slash_tmp=True, exclude_tmpdir_env_var=True)
    assert policy.writable_roots == (ws.resolve(),)
    swapper = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, str(ws), str(outside), "4"], stdout=subprocess.PIPE, text=True
    )
    written: list[str] = []
    crashed: list[BaseException] = []
    try:
        started = time.monotonic()
        # Bounded: at most 8 rounds of 40, and no new round once the swapper has stopped.
        for round_ in range(8):
            if swapper.poll() is not None or time.monotonic() - started > 3:
                break
            for result in asyncio.run(_patch_all(ws, policy, 40, round_)):
                if isinstance(result, BaseException):
                    crashed.append(result)
                elif result.success:
                    written += [line[2:] for line in result.output.splitlines()[1:]]
    finally:
        out, _ = swapper.communicate(timeout=30)
    assert out == "stopped\n", "the swapper did not run to its end"
    assert sorted(p.name for p in outside.iterdir()) == []
    assert (ws / "d").is_dir() and not (ws / "d").is_symlink()
    for name in written:
        assert (ws / name).is_file(), f"{name} was reported written but is not inside the workspace"
    assert crashed == [], "a patch raised instead of answering with a clear result"
    # Some patches must have met the swap in either state; a run that saw none proves little.
    assert written, "no patch was applied at all"
