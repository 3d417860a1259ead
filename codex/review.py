"""Code review: collect a diff with git, ask the model for findings, read its answer.

Every face that reviews (``codex review``, ``/review`` in the terminal) goes through here::

    target = ReviewTarget.base("main")
    change = collect_change(cwd, target)               # UsageError for a wrong branch or commit
    prompt = review_prompt(change, focus="security")
    answer = await run_review(pm, loaded, prompt)      # read-only sandbox, never asks
    review = parse_review(answer, change.root)         # ReviewFailed when it is not JSON
    print("\\n".join(format_findings(review.findings)))

The diff is collected by codex and sent in the prompt (the model may still run read-only
commands to look around): the review then covers exactly what was asked, even when the model
would have picked another base or forgotten untracked files.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex.errors import CodexError, UsageError

if TYPE_CHECKING:
    from codex import events as ev
    from codex.config.loader import LoadedConfig
    from codex.plugins import CodexPluginManager

# About 75,000 tokens: room for the instructions and the answer in any current context window.
# Beyond it the model is told what was left out and how to read it itself.
MAX_DIFF_CHARS = 300_000
GIT_TIMEOUT_SECONDS = 60
PRIORITIES = (0, 1, 2, 3)
# A finding whose priority the model left out counts as a normal one.
DEFAULT_PRIORITY = 2


class ReviewFailed(CodexError):
    """The review could not be done: git failed, the model failed, or its answer was unreadable.

    Exit status 3, so a script can tell it from "findings" (1) and a wrong command line (2).
    """

    exit_code = 3


@dataclass(frozen=True)
class ReviewTarget:
    """What to review: ``uncommitted`` changes, the changes since ``base`` branched, or one ``commit``."""

    kind: str
    ref: str | None = None
    title: str | None = None

    @classmethod
    def uncommitted(cls) -> ReviewTarget:
        """Staged, unstaged and untracked changes against HEAD."""
        return cls("uncommitted")

    @classmethod
    def base(cls, branch: str) -> ReviewTarget:
        """Everything since the merge base of HEAD and ``branch`` (commits and uncommitted edits)."""
        return cls("base", branch)

    @classmethod
    def commit(cls, sha: str, title: str | None = None) -> ReviewTarget:
        """The changes one commit introduced (against its first parent)."""
        return cls("commit", sha, title)


@dataclass
class Change:
    """The diff to review and how to describe it."""

    target: ReviewTarget
    root: Path
    diff: str
    description: str
    files: list[str] = field(default_factory=list)
    # The length collected before cutting (untracked files stop being read once it is too long).
    truncated_from: int | None = None
    inspect_hint: str = ""


@dataclass
class Finding:
    """One problem the model found; ``path`` is relative to the repository root when it lies inside."""

    title: str
    body: str
    priority: int
    path: str | None = None
    line: int | None = None
    end_line: int | None = None
    confidence_score: float | None = None

    def location(self) -> str:
        """``path:line`` (or ``path`` alone, or "" when the model named no file)."""
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def to_data(self) -> dict[str, Any]:
        """The finding as ``--json`` prints it."""
        return dataclasses.asdict(self)


@dataclass
class Review:
    """The model's review: findings (most urgent first) and its overall verdict."""

    findings: list[Finding]
    overall_correctness: str | None = None
    overall_explanation: str | None = None
    overall_confidence_score: float | None = None


# ------------------------------------------------------------------------------ collecting the diff


def collect_change(cwd: Path, target: ReviewTarget) -> Change:
    """Run git in ``cwd`` and return the change ``target`` names.

    Raises ``UsageError`` outside a git repository or for a branch or commit git does not know
    (with git's own message), ``ReviewFailed`` when git itself fails.
    """
    root_run = _git(cwd, "rev-parse", "--show-toplevel")
    if root_run.returncode != 0:
        raise UsageError(
            f"{cwd} is not inside a git repository ({_first_line(root_run.stderr)}); codex review reads "
            "the changes from git. Run it inside a repository, or pass -C DIR."
        )
    root = Path(root_run.stdout.strip())
    if target.kind == "uncommitted":
        change = _uncommitted(root, target)
    elif target.kind == "base":
        change = _against_base(root, target)
    elif target.kind == "commit":
        change = _one_commit(root, target)
    else:
        raise ValueError(f"unknown review target {target.kind!r}")
    change.files = re.findall(r"^diff --git a/(.*?) b/", change.diff, flags=re.MULTILINE)
    if len(change.diff) > MAX_DIFF_CHARS:
        change.truncated_from = len(change.diff)
        cut = change.diff.rfind("\n", 0, MAX_DIFF_CHARS)
        change.diff = change.diff[: cut + 1 if cut > 0 else MAX_DIFF_CHARS]
    return change


def _uncommitted(root: Path, target: ReviewTarget) -> Change:
    has_head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD").returncode == 0
    # Before the first commit there is no HEAD: compare with the empty tree instead.
    against = "HEAD" if has_head else _empty_tree(root)
    parts = [_checked(_git(root, "diff", *_DIFF_FLAGS, against, "--"), "git diff")]
    untracked = _checked(_git(root, "ls-files", "--others", "--exclude-standard", "-z"), "git ls-files")
    size = len(parts[0])
    for path in sorted(filter(None, untracked.split("\0"))):
        if size > MAX_DIFF_CHARS:
            break  # one git process per file: an unignored tree of thousands would take minutes
        # --no-index exits 1 when the files differ, which they always do here.
        added = _git(root, "diff", *_DIFF_FLAGS, "--no-index", "--", os.devnull, path)
        if added.returncode not in (0, 1):
            raise ReviewFailed(f"git diff --no-index {path} failed: {_first_line(added.stderr)}")
        parts.append(added.stdout)
        size += len(added.stdout)
    return Change(target, root, "".join(parts), "the uncommitted changes (staged, unstaged and untracked files)",
                  inspect_hint="git diff HEAD, git status")


def _against_base(root: Path, target: ReviewTarget) -> Change:
    branch = target.ref or ""
    tip = _resolve(root, branch, "--base")
    merge_base = _git(root, "merge-base", "HEAD", tip)
    if merge_base.returncode != 0 or not merge_base.stdout.strip():
        why = _first_line(merge_base.stderr) or "they share no history"
        raise UsageError(f"--base {branch}: no merge base between HEAD and {branch} ({why})")
    sha = merge_base.stdout.strip()
    diff = _checked(_git(root, "diff", *_DIFF_FLAGS, sha, "--"), "git diff")
    description = (f"the changes on the current branch since it left {branch} (merge base {sha[:12]}), "
                   "uncommitted edits to tracked files included")
    return Change(target, root, diff, description, inspect_hint=f"git diff {sha}")


def _one_commit(root: Path, target: ReviewTarget) -> Change:
    sha = _resolve(root, target.ref or "", "--commit")
    parents = _checked(_git(root, "rev-list", "--parents", "-n", "1", sha), "git rev-list").split()[1:]
    parent = parents[0] if parents else _empty_tree(root)
    diff = _checked(_git(root, "diff", *_DIFF_FLAGS, parent, sha, "--"), "git diff")
    title = target.title or _checked(_git(root, "log", "-1", "--format=%s", sha), "git log").strip()
    described = f"commit {sha[:12]}" + (f' ("{title}")' if title else "")
    return Change(ReviewTarget.commit(sha, title or None), root, diff, f"the changes introduced by {described}",
                  inspect_hint=f"git show {sha}")


# No external diff drivers or textconv filters: the repository's config must not run programs
# when codex reads a diff, and the model should see the bytes that changed.
_DIFF_FLAGS = ("--no-color", "--no-ext-diff", "--no-textconv", "--find-renames")


def _resolve(root: Path, ref: str, option: str) -> str:
    if not ref.strip():
        raise UsageError(f"{option} needs a branch or commit name")
    resolved = _git(root, "rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}")
    if resolved.returncode != 0:
        raise UsageError(f"{option} {ref}: git knows no commit or branch by that name "
                         f"(git: {_first_line(resolved.stderr)}); `git branch -a` and `git log` list them")
    return resolved.stdout.strip()


def _empty_tree(root: Path) -> str:
    return _checked(_git(root, "hash-object", "-t", "tree", "--stdin"), "git hash-object").strip()


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "--no-pager", "-c", "core.quotepath=off", *args],
            cwd=cwd, capture_output=True, text=True, errors="replace", stdin=subprocess.DEVNULL,
            timeout=GIT_TIMEOUT_SECONDS, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
    except FileNotFoundError as exc:
        raise ReviewFailed("git is not installed (or not on PATH); codex review reads the changes from git") from exc
    except subprocess.TimeoutExpired as exc:
        raise ReviewFailed(f"`git {' '.join(args)}` took longer than {GIT_TIMEOUT_SECONDS} s") from exc


def _checked(run: subprocess.CompletedProcess[str], what: str) -> str:
    if run.returncode != 0:
        raise ReviewFailed(f"{what} failed (exit {run.returncode}): {_first_line(run.stderr)}")
    return run.stdout


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


# ------------------------------------------------------------------------------ the prompt

REVIEW_INSTRUCTIONS = """\
Review a code change another engineer made. Report only problems the change itself introduces \
and that its author would want to fix: wrong results, crashes, security holes, lost data, \
broken error handling, races, performance traps, changed behaviour without a matching test. \
Leave out matters of taste, problems that were there before the change, and anything you cannot \
tie to specific lines. Read the surrounding code with read-only commands when the diff alone \
does not settle a question; you cannot and should not change files.

For each problem give:
- "title": what to fix, imperative, at most 80 characters;
- "body": one short paragraph: why it is wrong, and the inputs or conditions under which it \
shows; quote at most three lines of code;
- "priority": 0 blocks everything (breaks the build, loses data, exploitable), 1 must be fixed \
before merging, 2 should be fixed, 3 is minor;
- "confidence_score": from 0 to 1, how sure you are that it is a real problem;
- "code_location": {"file_path": path relative to the repository root, "line_range": \
{"start": N, "end": M}}: the shortest range that shows the problem, in line numbers of the new \
version of the file (the "+" side of the diff).

Answer with a single JSON object and nothing else, no Markdown fence around it:
{"findings": [{"title": "...", "body": "...", "priority": 1, "confidence_score": 0.8, \
"code_location": {"file_path": "src/app.py", "line_range": {"start": 12, "end": 14}}}], \
"overall_correctness": "patch is correct" or "patch is incorrect", \
"overall_explanation": "one to three sentences", "overall_confidence_score": 0.9}
An empty "findings" list is the right answer when nothing qualifies."""


def review_prompt(change: Change, focus: str | None = None) -> str:
    """The message that asks for the review: instructions, what is reviewed, the person's focus, the diff."""
    parts = [REVIEW_INSTRUCTIONS, "", f"What to review: {change.description}, in the repository at {change.root}."]
    if focus and focus.strip():
        parts += ["", "The person asking adds these instructions, which take precedence over the ones above "
                      "where they differ (the answer format stays the same):", focus.strip()]
    if change.truncated_from is not None:
        parts += ["", f"The diff was cut: only its first {len(change.diff):,} characters are below. "
                      f"Read the rest yourself ({change.inspect_hint})."]
    parts += ["", "<diff>", change.diff.rstrip("\n"), "</diff>"]
    return "\n".join(parts)


# ------------------------------------------------------------------------------ running it


def review_config(loaded: LoadedConfig) -> LoadedConfig:
    """``loaded`` for a review: read-only sandbox, never asks (the original is left unchanged)."""
    config = dataclasses.replace(loaded.config, sandbox_mode="read-only", approval_policy="never")
    origins = {**loaded.origins, "sandbox_mode": "codex review (read-only)",
               "approval_policy": "codex review (never asks)"}
    # The peer's review_model picks the reviewer; a model named on the command line still wins.
    if config.review_model and loaded.origins.get("model") not in ("--model", "--oss"):
        config.model = config.review_model
        origins["model"] = f"review_model ({loaded.origins.get('review_model', 'config')})"
    return dataclasses.replace(loaded, config=config, origins=origins)


async def run_review(
    pm: CodexPluginManager,
    loaded: LoadedConfig,
    prompt: str,
    on_event: Callable[[ev.Event], None] | None = None,
) -> str:
    """Run one turn with ``prompt`` in a new, unrecorded session under ``review_config`` and
    return the model's final answer; ``on_event`` sees every event (for progress).

    Raises ``ReviewFailed`` when the turn ends in an error or without an answer.
    """
    from codex import events as ev
    from codex.engine import open_session

    session = await open_session(pm, review_config(loaded), record=False)
    try:
        session.submit(ev.UserInput(prompt))
        while True:
            event = await session.next_event()
            if on_event is not None:
                on_event(event)
            msg = event.msg
            if isinstance(msg, ev.ExecApprovalRequest | ev.PatchApprovalRequest):
                # Unreachable under `never`, but a plugin policy might still ask: refuse, never hang.
                session.submit(ev.ApprovalAnswer(msg.request_id, ev.ReviewDecision.DENIED, "a review cannot ask"))
            elif isinstance(msg, ev.TaskComplete):
                if not (msg.last_agent_message or "").strip():
                    raise ReviewFailed("the model ended the review without an answer")
                return msg.last_agent_message or ""
            elif isinstance(msg, ev.Error):
                raise ReviewFailed(f"the review failed: {msg.message}")
            elif isinstance(msg, ev.TurnAborted):
                raise ReviewFailed(f"the review was aborted ({msg.reason})")
    finally:
        await session.close()


# ------------------------------------------------------------------------------ reading the answer


def parse_review(answer: str, root: Path | None = None) -> Review:
    """Read the model's answer as a review, forgivingly: the JSON object may sit in a Markdown
    fence or among prose, titles may carry a ``[P1]`` tag, priorities may be ``"P1"`` or ``1``,
    and absolute paths inside ``root`` become relative. Findings come back most urgent first.

    Raises ``ReviewFailed`` when no JSON object with a ``findings`` list is found.
    """
    data = _find_review_object(answer)
    if data is None:
        preview = " ".join(answer.split())[:200]
        raise ReviewFailed(f"the model's answer is not the JSON review it was asked for: {preview!r}")
    findings = [_finding(item, root) for item in data["findings"] if isinstance(item, dict)]
    findings.sort(key=lambda f: (f.priority, f.path or "\uffff", f.line or 0))
    return Review(
        findings,
        _text(data.get("overall_correctness")),
        _text(data.get("overall_explanation")),
        _number(data.get("overall_confidence_score")),
    )


def _find_review_object(answer: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    text = answer.strip()
    # Most answers are the bare object; otherwise try each "{" in turn (fences, prose around it).
    starts = [0] if text.startswith("{") else []
    starts += [match.start() for match in re.finditer(r"\{", text) if match.start() != 0]
    for start in starts[:200]:
        try:
            value, _end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and isinstance(value.get("findings"), list):
            return value
    return None


def _finding(item: dict[str, Any], root: Path | None) -> Finding:
    # One line per finding header, whatever line breaks the model put in the title.
    title = " ".join((_text(item.get("title")) or "(untitled finding)").split())
    tag = re.match(r"\s*\[P([0-3])\]\s*", title)
    if tag:
        title = title[tag.end():]
    priority = _priority(item.get("priority"))
    if priority is None:
        priority = int(tag.group(1)) if tag else DEFAULT_PRIORITY
    nested = item.get("code_location")
    location: dict[str, Any] = nested if isinstance(nested, dict) else item
    raw_path = next((value for key in ("file_path", "absolute_file_path", "path", "file")
                     if isinstance(value := location.get(key), str) and value), None)
    ranged = location.get("line_range")
    lines: dict[str, Any] = ranged if isinstance(ranged, dict) else {}
    start = _line(lines.get("start", location.get("line")))
    end = _line(lines.get("end", location.get("end_line")))
    return Finding(
        title=title.strip() or "(untitled finding)",
        body=_text(item.get("body")) or "",
        priority=priority,
        path=_relative(raw_path, root) if raw_path else None,
        line=start,
        end_line=end if end is not None and start is not None and end > start else None,
        confidence_score=_number(item.get("confidence_score")),
    )


def _priority(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        match = re.fullmatch(r"\s*[Pp]?([0-3])\s*", value)
        return int(match.group(1)) if match else None
    if isinstance(value, int | float) and value == int(value):
        return min(max(int(value), 0), 3)
    return None


def _line(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int | float) and value >= 1:
        return int(value)
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _relative(path: str, root: Path | None) -> str:
    candidate = Path(path)
    if root is not None and candidate.is_absolute():
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            return path
    return path.removeprefix("./")


# ------------------------------------------------------------------------------ showing it


def format_findings(findings: list[Finding], indent: str = "  ") -> list[str]:
    """Plain lines: ``path:line: [P1] title`` then the body indented, one blank line between findings."""
    lines: list[str] = []
    for number, finding in enumerate(findings):
        if number:
            lines.append("")
        where = finding.location()
        lines.append(f"{where}: [P{finding.priority}] {finding.title}" if where
                     else f"[P{finding.priority}] {finding.title}")
        lines += [f"{indent}{line}".rstrip() for line in finding.body.splitlines()]
    return lines


def verdict_line(review: Review) -> str | None:
    """The model's overall verdict in one line, when it gave one."""
    if review.overall_correctness is None and review.overall_explanation is None:
        return None
    verdict = review.overall_correctness or "verdict"
    if review.overall_confidence_score is not None:
        verdict += f" (confidence {review.overall_confidence_score:.2f})"
    return f"{verdict}: {review.overall_explanation}" if review.overall_explanation else verdict
