"""``codex review``: a real git repository, the real CLI, the mock model answering with findings.

Each test reads as what a user does: change files, run ``codex review``, read stdout and the
exit status; the request the model received shows what was sent.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from codex.review import ReviewFailed, parse_review
from tests.conftest import RunCodex
from tests.mock_model import Call, MockModelServer, Text, mock_model  # noqa: F401  (fixture)

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository on branch main with one commit holding calc.py."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "add calc")
    return root


@pytest.fixture
def configured(codex_home: Path, mock_model: MockModelServer) -> MockModelServer:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0),
        encoding="utf-8",
    )
    return mock_model


def finding(title: str, path: str, start: int, priority: int, body: str = "Why it is wrong.") -> dict[str, Any]:
    return {"title": title, "body": body, "priority": priority, "confidence_score": 0.7,
            "code_location": {"file_path": path, "line_range": {"start": start, "end": start}}}


def answer(*findings: dict[str, Any], correctness: str = "patch is incorrect") -> str:
    return json.dumps({"findings": list(findings), "overall_correctness": correctness,
                       "overall_explanation": "Division by zero is not handled.", "overall_confidence_score": 0.8})


def user_text(mock: MockModelServer, request: int = 0) -> str:
    items = mock.requests[request].json["input"]
    return "\n".join(part["text"] for item in items if item.get("role") == "user" for part in item["content"])


def change_calc(repo: Path) -> None:
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b\n\n\ndef div(a, b):\n    return a / b\n",
                                  encoding="utf-8")
    (repo / "notes.txt").write_text("untracked note\n", encoding="utf-8")


# ------------------------------------------------------------------------------ the whole command


def test_uncommitted_changes_are_sent_and_findings_printed_with_file_and_line(
    repo: Path, configured: MockModelServer, run_codex: RunCodex
) -> None:
    change_calc(repo)
    configured.responses_text(answer(
        finding("Guard against division by zero", "calc.py", 6, 1, "div(1, 0) raises.\nCheck b first."),
        finding("Mention div in the notes", str(repo / "notes.txt"), 1, 3),
    ))
    result = run_codex("review", cwd=repo)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == ["calc.py:6: [P1] Guard against division by zero", "  div(1, 0) raises.", "  Check b first."]
    # An absolute path inside the repository is shown relative to it.
    assert "notes.txt:1: [P3] Mention div in the notes" in lines
    assert "2 findings, 2 at P3 or above" in lines
    assert lines[-1] == "patch is incorrect (confidence 0.80): Division by zero is not handled."
    sent = user_text(configured)
    assert "+def div(a, b):" in sent and "+    return a / b" in sent
    assert "+untracked note" in sent  # untracked files are part of the uncommitted changes
    assert '"findings"' in sent  # the model is told the answer format
    # The review runs read-only and never asks, whatever the config says.
    assert "<sandbox_mode>read-only</sandbox_mode>" in sent
    assert "<approval_policy>never</approval_policy>" in sent


def test_fail_on_sets_the_threshold_for_exit_status_1(
    repo: Path, configured: MockModelServer, run_codex: RunCodex
) -> None:
    change_calc(repo)
    findings = answer(finding("Guard against division by zero", "calc.py", 6, 1))
    for _ in range(3):
        configured.responses_text(findings)
    assert run_codex("review", "--fail-on", "P0", cwd=repo).returncode == 0
    assert run_codex("review", "--fail-on", "p1", cwd=repo).returncode == 1
    passed = run_codex("review", "--fail-on", "none", cwd=repo)
    assert passed.returncode == 0
    assert "calc.py:6: [P1] Guard against division by zero" in passed.stdout


def test_no_findings_exit_0(repo: Path, configured: MockModelServer, run_codex: RunCodex) -> None:
    change_calc(repo)
    configured.responses_text(answer(correctness="patch is correct"))
    result = run_codex("review", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "no findings"
    assert "patch is correct" in result.stdout


def test_json_output(repo: Path, configured: MockModelServer, run_codex: RunCodex) -> None:
    change_calc(repo)
    configured.responses_text(answer(finding("Guard against division by zero", "calc.py", 6, 0)))
    result = run_codex("review", "--json", cwd=repo)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["findings"] == [{
        "title": "Guard against division by zero", "body": "Why it is wrong.", "priority": 0,
        "path": "calc.py", "line": 6, "end_line": None, "confidence_score": 0.7,
    }]
    assert data["target"]["kind"] == "uncommitted"
    assert data["overall_correctness"] == "patch is incorrect"
    assert (data["fail_on"], data["failing_findings"], data["nothing_to_review"]) == ("P3", 1, False)


def test_a_clean_tree_has_nothing_to_review_and_asks_no_model(
    repo: Path, configured: MockModelServer, run_codex: RunCodex
) -> None:
    result = run_codex("review", cwd=repo)
    assert result.returncode == 0
    assert "nothing to review" in result.stderr
    assert result.stdout == ""
    as_json = run_codex("review", "--json", cwd=repo)
    assert json.loads(as_json.stdout)["nothing_to_review"] is True
    assert configured.requests == []


def test_base_reviews_the_branch_since_its_merge_base(
    repo: Path, configured: MockModelServer, run_codex: RunCodex
) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "feature.py").write_text("FEATURE = 1\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "feature work")
    # main moves on after the branch left it: its change is not the branch's to review.
    git(repo, "checkout", "-q", "main")
    (repo / "later.py").write_text("LATER = 2\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "later on main")
    git(repo, "checkout", "-q", "feature")
    configured.responses_text(answer())
    result = run_codex("review", "--base", "main", cwd=repo)
    assert result.returncode == 0, result.stderr
    sent = user_text(configured)
    assert "+FEATURE = 1" in sent
    assert "LATER" not in sent
    assert "since it left main" in sent


def test_commit_reviews_what_that_commit_changed(
    repo: Path, configured: MockModelServer, run_codex: RunCodex
) -> None:
    (repo / "calc.py").write_text("def add(a, b):\n    return a - b\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "subtract instead")
    first = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    (repo / "calc.py").write_text("uncommitted = True\n", encoding="utf-8")
    configured.responses_text(answer())
    configured.responses_text(answer())
    assert run_codex("review", "--commit", "HEAD", cwd=repo).returncode == 0
    sent = user_text(configured, 0)
    assert "-    return a + b" in sent and "+    return a - b" in sent
    assert '("subtract instead")' in sent
    assert "uncommitted = True" not in sent
    # The first commit has no parent: it is reviewed as a whole, with the title given.
    assert run_codex("review", "--commit", first[:10], "--title", "the start", cwd=repo).returncode == 0
    sent = user_text(configured, 1)
    assert "+def add(a, b):" in sent and '("the start")' in sent


def test_instructions_from_the_prompt_or_stdin_reach_the_model(
    repo: Path, configured: MockModelServer, run_codex: RunCodex
) -> None:
    change_calc(repo)
    configured.responses_text(answer())
    configured.responses_text(answer())
    assert run_codex("review", "look only at error handling", cwd=repo).returncode == 0
    assert "look only at error handling" in user_text(configured, 0)
    assert run_codex("review", "-", cwd=repo, stdin="check the docstrings\n").returncode == 0
    assert "check the docstrings" in user_text(configured, 1)


def test_the_model_may_read_but_not_write(
    repo: Path, configured: MockModelServer, run_codex: RunCodex
) -> None:
    change_calc(repo)
    configured.responses_turn(Call("shell", {"command": ["bash", "-c", "cat calc.py; touch written.txt"]}))
    configured.responses_text(answer())
    # Even an explicit full-access sandbox on the command line does not make a review writable.
    result = run_codex("review", "-s", "danger-full-access", "-a", "on-request", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "exec bash -c 'cat calc.py; touch written.txt'" in result.stderr
    assert not (repo / "written.txt").exists()
    outputs = [item["output"] for item in configured.requests[1].json["input"]
               if item.get("type") == "function_call_output"]
    assert "return a / b" in outputs[0]  # reading worked


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--base", "no-such-branch"), "--base no-such-branch: git knows no commit or branch by that name"),
        (("--commit", "deadbeef"), "--commit deadbeef: git knows no commit or branch by that name"),
        (("--base", "main", "--commit", "HEAD"), "choose one of --uncommitted, --base and --commit"),
        (("--title", "x"), "--title goes with --commit"),
    ],
)
def test_usage_errors_exit_2(
    repo: Path, configured: MockModelServer, run_codex: RunCodex, args: tuple[str, ...], message: str
) -> None:
    change_calc(repo)
    result = run_codex("review", *args, cwd=repo)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert configured.requests == []


def test_outside_a_repository_exit_2(tmp_path: Path, configured: MockModelServer, run_codex: RunCodex) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    result = run_codex("review", cwd=plain)
    assert result.returncode == 2
    assert f"{plain} is not inside a git repository" in result.stderr
    assert "not a git repository" in result.stderr  # git's own words


def test_an_unreadable_answer_or_a_failing_model_exit_3(
    repo: Path, configured: MockModelServer, run_codex: RunCodex
) -> None:
    change_calc(repo)
    configured.responses_turn(Text("Looks fine to me!"))
    prose = run_codex("review", cwd=repo)
    assert prose.returncode == 3
    assert "not the JSON review it was asked for: 'Looks fine to me!'" in prose.stderr
    configured.error(400, "model mock-model does not exist")
    failed = run_codex("review", cwd=repo)
    assert failed.returncode == 3
    assert "model mock-model does not exist" in failed.stderr


def test_help_explains_the_exit_status(run_codex: RunCodex) -> None:
    result = run_codex("review", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for words in ("--uncommitted", "--base BRANCH", "--commit SHA", "--title TITLE", "--fail-on",
                  "0 no finding at or above --fail-on", "1 at least one finding",
                  "2 usage error", "3 the review failed"):
        assert words in text


# ------------------------------------------------------------------------------ reading the model's answer


def test_parse_review_forgives_fences_prose_tags_and_string_priorities() -> None:
    text = (
        "Here is my review.\n```json\n"
        + json.dumps({"findings": [
            {"title": "[P2] Close the file", "body": "Leaks.",
             "code_location": {"absolute_file_path": "/work/repo/src/a.py", "line_range": {"start": 9, "end": 12}}},
            {"title": "Check\nthe input", "priority": "P0", "path": "./b.py", "line": "3"},
            {"title": "No location", "priority": True},
            "not a finding",
        ]})
        + "\n```\nThanks!"
    )
    review = parse_review(text, Path("/work/repo"))
    assert [(f.priority, f.title, f.location(), f.end_line) for f in review.findings] == [
        (0, "Check the input", "b.py:3", None),
        (2, "Close the file", "src/a.py:9", 12),
        (2, "No location", "", None),
    ]


@pytest.mark.parametrize("text", ["", "no json here", '{"summary": "fine"}', '{"findings": "none"}', "{broken"])
def test_parse_review_refuses_what_is_not_a_review(text: str) -> None:
    with pytest.raises(ReviewFailed, match="not the JSON review"):
        parse_review(text)


# ------------------------------------------------------------------------------ collecting the diff


def test_before_the_first_commit_staged_and_untracked_files_are_reviewed(tmp_path: Path) -> None:
    from codex.review import ReviewTarget, collect_change

    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q")
    (root / "staged.py").write_text("STAGED = 1\n", encoding="utf-8")
    git(root, "add", "staged.py")
    (root / "loose.py").write_text("LOOSE = 2\n", encoding="utf-8")
    change = collect_change(root / ".", ReviewTarget.uncommitted())
    assert sorted(change.files) == ["loose.py", "staged.py"]
    assert "+STAGED = 1" in change.diff and "+LOOSE = 2" in change.diff


def test_the_repository_config_runs_no_diff_programs(repo: Path, tmp_path: Path) -> None:
    """An external diff or textconv driver in .git/config must not run when codex reads the diff."""
    from codex.review import ReviewTarget, collect_change

    marker = tmp_path / "ran"
    driver = tmp_path / "driver.sh"
    driver.write_text(f"#!/bin/sh\ntouch {marker}\necho FILTERED\n", encoding="utf-8")
    driver.chmod(0o755)
    git(repo, "config", "diff.external", str(driver))
    git(repo, "config", "diff.conv.textconv", str(driver))
    (repo / ".gitattributes").write_text("*.py diff=conv\n", encoding="utf-8")
    change_calc(repo)
    change = collect_change(repo, ReviewTarget.uncommitted())
    assert "+def div(a, b):" in change.diff
    assert "FILTERED" not in change.diff
    assert not marker.exists()


def test_a_diff_too_long_is_cut_and_the_model_told_how_to_read_the_rest(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import codex.review as review

    monkeypatch.setattr(review, "MAX_DIFF_CHARS", 2000)
    (repo / "big.txt").write_text("".join(f"line {n}\n" for n in range(1000)), encoding="utf-8")
    for number in range(3):
        (repo / f"later{number}.txt").write_text("more\n", encoding="utf-8")
    change = review.collect_change(repo, review.ReviewTarget.uncommitted())
    assert change.truncated_from is not None and change.truncated_from > 2000
    assert len(change.diff) <= 2000 and change.diff.endswith("\n")
    # Once the diff is too long, the remaining untracked files are not read at all.
    assert change.files == ["big.txt"]
    prompt = review.review_prompt(change)
    assert f"only its first {len(change.diff):,} characters are below" in prompt
    assert "git diff HEAD" in prompt


def test_exec_review_is_the_peers_spelling_of_review(
    repo: Path, configured: MockModelServer, run_codex: RunCodex
) -> None:
    change_calc(repo)
    configured.responses_text(answer(finding("Guard against division by zero", "calc.py", 6, 1)))
    configured.responses_text(answer(correctness="patch is correct"))
    result = run_codex("exec", "review", "--fail-on", "P1", cwd=repo)
    assert result.returncode == 1, result.stderr
    assert "calc.py:6: [P1] Guard against division by zero" in result.stdout
    assert run_codex("e", "review", cwd=repo).returncode == 0
    assert "diff --git a/calc.py b/calc.py" in user_text(configured, 1)


def test_review_model_picks_the_reviewer_unless_the_command_line_names_one(
    repo: Path, configured: MockModelServer, run_codex: RunCodex, codex_home: Path
) -> None:
    change_calc(repo)
    text = (codex_home / "config.toml").read_text(encoding="utf-8")
    (codex_home / "config.toml").write_text('review_model = "reviewer-model"\n' + text, encoding="utf-8")
    for _ in range(2):
        configured.responses_text(answer(correctness="patch is correct"))
    assert run_codex("review", cwd=repo).returncode == 0
    assert run_codex("review", "-m", "chosen-model", cwd=repo).returncode == 0
    assert [request.json["model"] for request in configured.requests] == ["reviewer-model", "chosen-model"]
