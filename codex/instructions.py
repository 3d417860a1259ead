"""What the model is told: the base prompt, AGENTS.md files, and the environment context."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

BASE_INSTRUCTIONS = """\
You are codex, a coding agent working in the user's terminal, inside their project. You solve the
task you are given by reading code, running commands and editing files, then you answer briefly.

How to work:
- Look before you change: list files, read the relevant code, run the tests that exist.
- Make the smallest change that solves the task well; keep the project's style.
- When a task has several steps, keep a plan with the update_plan tool (the whole list each time,
  one step in_progress at a time) and update it as you go.
- Check your work: run the tests or the program when you can. Do not claim what you did not verify.
- Finish with a short answer: what you changed and how you checked it. No long recaps of diffs.

Tools:
- shell: runs an argv array, e.g. ["bash", "-lc", "rg -n TODO src"]. Set workdir instead of `cd`.
  Prefer fast read-only tools (rg, ls, sed -n, git diff) for exploring. Output is capped: the start
  and end are kept with a marker saying what was cut.
- apply_patch: edits files. The format:
  *** Begin Patch
  *** Add File: path/to/new.py
  +first line
  *** Update File: path/to/old.py
  @@ def function_to_find():
   unchanged context line
  -line to remove
  +line to add
  *** Delete File: path/to/unwanted.txt
  *** End Patch
  Paths are relative to the working directory; give 3 lines of context around each change, and an
  @@ line naming the class or function when the context alone is ambiguous. `*** Move to: new/path`
  after an Update File line renames the file. A patch applies completely or not at all.
- update_plan: the checklist the user sees.

Sandbox and approvals:
- Commands run in a sandbox described in the environment context below. Under read-only you cannot
  write files; under workspace-write you may write inside the writable roots only, and the network
  is off unless it says otherwise.
- If a command fails because the sandbox denied it, do not try to get around the sandbox. Depending
  on the approval policy the user may be asked to allow it; otherwise find another way or explain
  what the user needs to run themselves.
- Under the on-request policy you may set with_escalated_permissions and a one-sentence
  justification on a shell call that truly needs to leave the sandbox (e.g. network access).
"""


def collect_agents_md(
    cwd: Path, codex_home: Path, max_bytes: int, *, fallbacks: Sequence[str] = ()
) -> tuple[str, str | None]:
    """AGENTS.md from CODEX_HOME, then from the repository root down to ``cwd``, concatenated.

    In a project directory without AGENTS.md, the first of ``fallbacks`` that exists is read
    instead (``project_doc_fallback_filenames``, e.g. ``["CLAUDE.md"]``), as the Rust CLI does.
    Returns (text, warning). The text is capped at ``max_bytes``; when cut, the warning says how
    much was dropped so the person knows the model did not see all of it.
    """
    files: list[Path] = []
    home_file = codex_home / "AGENTS.md"
    if home_file.is_file():
        files.append(home_file)
    root = _repo_root(cwd) or cwd
    chain: list[Path] = []
    directory = cwd
    while True:
        chain.append(directory)
        if directory == root or directory.parent == directory:
            break
        directory = directory.parent
    names = ["AGENTS.md", *(name for name in fallbacks if name and "/" not in name and name != "AGENTS.md")]
    for directory in reversed(chain):
        found = next((directory / name for name in names if (directory / name).is_file()), None)
        if found is not None:
            files.append(found)
    parts: list[str] = []
    for path in files:
        try:
            parts.append(path.read_text(encoding="utf-8", errors="replace").strip())
        except OSError:
            continue
    text = "\n\n".join(p for p in parts if p)
    if max_bytes <= 0 or not text:
        return "", None
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text, None
    cut = data[:max_bytes].decode("utf-8", "ignore")
    warning = (
        f"AGENTS.md instructions are {len(data)} bytes; only the first {max_bytes} were sent "
        "(raise project_doc_max_bytes to send more)"
    )
    return cut, warning


def _repo_root(cwd: Path) -> Path | None:
    for directory in (cwd, *cwd.parents):
        if (directory / ".git").exists():
            return directory
    return None


def environment_context(cwd: Path, approval_policy: str, sandbox_mode: str, network: bool, roots: list[str]) -> str:
    """The block the model reads about where it runs (the peer's <environment_context>)."""
    lines = [
        "<environment_context>",
        f"  <cwd>{cwd}</cwd>",
        f"  <approval_policy>{approval_policy}</approval_policy>",
        f"  <sandbox_mode>{sandbox_mode}</sandbox_mode>",
        f"  <network_access>{'enabled' if network else 'restricted'}</network_access>",
    ]
    if roots:
        lines.append("  <writable_roots>")
        lines += [f"    <root>{root}</root>" for root in roots]
        lines.append("  </writable_roots>")
    lines.append(f"  <shell>{os.path.basename(os.environ.get('SHELL', 'bash'))}</shell>")
    lines.append("</environment_context>")
    return "\n".join(lines)
