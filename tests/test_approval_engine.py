"""Every approval policy x sandbox x outcome, through the real engine.

An in-process Session talks to the mock model over loopback; commands run for real under the
Landlock backend (or with no backend at all, to prove nothing then runs unconfined silently).
A scripted answerer plays the person. Each test checks what a user would see: files on disk,
the questions asked, and what the model was told.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from codex import events as ev
from codex.config.loader import load_config
from codex.engine import open_session
from codex.plugins import make_plugin_manager
from tests.mock_model import Call, MockModelServer, Text, mock_model  # noqa: F401  (fixture)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="commands are confined by the Linux backend")

Answer = ev.ReviewDecision | tuple[ev.ReviewDecision, str]
A, S, D, X = (
    ev.ReviewDecision.APPROVED,
    ev.ReviewDecision.APPROVED_FOR_SESSION,
    ev.ReviewDecision.DENIED,
    ev.ReviewDecision.ABORT,
)


@dataclass
class Outcome:
    asked: list[Any] = field(default_factory=list)
    ended: str = ""
    commands: list[ev.ExecCommandBegin] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class Lab:
    """A workspace, an outside directory the sandbox must protect, and the mock model."""

    mock: MockModelServer
    home: Path
    ws: Path
    outside: Path

    def run(
        self,
        calls: list[Call],
        *,
        policy: str,
        sandbox: str = "workspace-write",
        answers: list[Answer] | None = None,
        backends: bool = True,
    ) -> Outcome:
        for call in calls:
            self.mock.responses_turn(call)
        self.mock.responses_text("done")
        return asyncio.run(self._drive(policy, sandbox, list(answers or []), backends))

    async def _drive(self, policy: str, sandbox: str, answers: list[Answer], backends: bool) -> Outcome:
        env = {} if backends else {"CODEX_PLUGINS": "openai"}
        pm = make_plugin_manager(env=env)
        loaded = load_config(
            home=self.home,
            cwd=self.ws,
            cli_overrides=[
                'model_provider="mock"',
                f'model_providers.mock={{base_url="{self.mock.base_url}", wire_api="responses", '
                "request_max_retries=0, stream_max_retries=0}",
                "sandbox_workspace_write.exclude_slash_tmp=true",
                "sandbox_workspace_write.exclude_tmpdir_env_var=true",
            ],
            flags={"approval_policy": policy, "sandbox_mode": sandbox},
        )
        session = await open_session(pm, loaded, record=False)
        session.submit(ev.UserInput("go"))
        outcome = Outcome()
        try:
            async with asyncio.timeout(30):
                while True:
                    msg = (await session.next_event()).msg
                    if isinstance(msg, ev.ExecApprovalRequest | ev.PatchApprovalRequest):
                        outcome.asked.append(msg)
                        answer = answers.pop(0) if answers else D
                        decision, feedback = answer if isinstance(answer, tuple) else (answer, None)
                        session.submit(ev.ApprovalAnswer(msg.request_id, decision, feedback))
                    elif isinstance(msg, ev.ExecCommandBegin):
                        outcome.commands.append(msg)
                    elif isinstance(msg, ev.TaskComplete | ev.TurnAborted | ev.Error):
                        outcome.ended = msg.type
                        break
        finally:
            await session.close()
        for request in self.mock.requests:
            for item in request.json["input"]:
                if item.get("type") == "function_call_output":
                    outcome.outputs[item["call_id"]] = item["output"]
        return outcome


@pytest.fixture
def lab(mock_model: MockModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lab:
    home = tmp_path / "home"
    ws = tmp_path / "ws"
    outside = tmp_path / "outside"
    for d in (home, ws, outside):
        d.mkdir()
    monkeypatch.delenv("TMPDIR", raising=False)
    return Lab(mock_model, home, ws, outside)


def sh(script: str, call_id: str = "c1", **extra: Any) -> Call:
    return Call("shell", {"command": ["bash", "-c", script], **extra}, call_id)


# ---------------------------------------------------------------- untrusted


def test_untrusted_runs_known_safe_commands_without_asking_but_sandboxed(lab: Lab) -> None:
    out = lab.run([Call("shell", {"command": ["ls"]}, "c1")], policy="untrusted")
    assert out.asked == []
    assert [c.sandboxed for c in out.commands] == [True]
    assert out.outputs["c1"].startswith("Exit code: 0")


def test_untrusted_asks_and_approved_command_runs_in_the_sandbox(lab: Lab) -> None:
    out = lab.run([sh("touch made.txt")], policy="untrusted", answers=[A])
    assert [(q.command, q.sandboxed) for q in out.asked] == [(["bash", "-c", "touch made.txt"], True)]
    assert (lab.ws / "made.txt").exists()
    assert [c.sandboxed for c in out.commands] == [True]


def test_untrusted_denied_with_feedback_reaches_the_model(lab: Lab) -> None:
    out = lab.run([sh("touch made.txt")], policy="untrusted", answers=[(D, "use the Makefile instead")])
    assert not (lab.ws / "made.txt").exists()
    assert out.commands == []
    assert "denied" in out.outputs["c1"] and "use the Makefile instead" in out.outputs["c1"]
    assert out.ended == "task_complete"


def test_untrusted_abort_ends_the_turn(lab: Lab) -> None:
    out = lab.run([sh("touch made.txt")], policy="untrusted", answers=[X])
    assert out.ended == "turn_aborted"
    assert not (lab.ws / "made.txt").exists()
    assert len(lab.mock.requests) == 1  # the model was not asked again


def test_approved_for_session_is_not_asked_twice(lab: Lab) -> None:
    out = lab.run([sh("echo one >> log", "c1"), sh("echo one >> log", "c2")], policy="untrusted", answers=[S])
    assert len(out.asked) == 1
    assert (lab.ws / "log").read_text() == "one\none\n"


def test_untrusted_write_outside_the_roots_is_asked_once_and_runs_outside(lab: Lab) -> None:
    target = lab.outside / "x"
    out = lab.run([sh(f"touch {target}")], policy="untrusted", answers=[A])
    assert len(out.asked) == 1
    assert out.asked[0].sandboxed is False and "runs outside it" in out.asked[0].reason
    assert [c.sandboxed for c in out.commands] == [False]
    assert target.exists()


@pytest.mark.parametrize("answer", [A, S])
def test_untrusted_read_only_approval_is_one_question_and_the_file_is_made(lab: Lab, answer: Answer) -> None:
    out = lab.run([sh("touch x")], policy="untrusted", sandbox="read-only", answers=[answer])
    assert [(q.command, q.sandboxed) for q in out.asked] == [(["bash", "-c", "touch x"], False)]
    assert "read-only" in out.asked[0].reason
    assert [c.sandboxed for c in out.commands] == [False]
    assert (lab.ws / "x").exists()
    assert out.outputs["c1"].startswith("Exit code: 0")


def test_untrusted_read_only_denied_makes_nothing(lab: Lab) -> None:
    out = lab.run([sh("touch x")], policy="untrusted", sandbox="read-only", answers=[D])
    assert len(out.asked) == 1 and out.commands == []
    assert not (lab.ws / "x").exists()


def test_always_outside_for_the_session_runs_outside_again_without_asking(lab: Lab) -> None:
    calls = [sh("echo one >> log", "c1"), sh("echo one >> log", "c2")]
    out = lab.run(calls, policy="untrusted", sandbox="read-only", answers=[S])
    assert len(out.asked) == 1 and out.asked[0].sandboxed is False
    assert [c.sandboxed for c in out.commands] == [False, False]
    assert (lab.ws / "log").read_text() == "one\none\n"


def test_always_inside_never_becomes_a_run_outside_that_was_not_shown(lab: Lab) -> None:
    # The write target hides behind a variable: predicted "inside", and the sandbox then denies it.
    script = f't={lab.outside / "x"}; touch "$t"'
    calls = [sh(script, "c1"), sh(script, "c2")]
    out = lab.run(calls, policy="untrusted", answers=[S, D, D])
    assert [q.sandboxed for q in out.asked] == [True, False, False]
    assert all("sandbox denied" in q.reason for q in out.asked[1:])
    assert [c.sandboxed for c in out.commands] == [True, True]
    assert not (lab.outside / "x").exists()


def test_untrusted_approved_inside_then_denied_asks_once_more_and_runs_outside(lab: Lab) -> None:
    script = f't={lab.outside / "x"}; touch "$t"'
    out = lab.run([sh(script)], policy="untrusted", answers=[A, A])
    assert [q.sandboxed for q in out.asked] == [True, False]
    assert [c.sandboxed for c in out.commands] == [True, False]
    assert (lab.outside / "x").exists()


# ---------------------------------------------------------------- on-failure


def test_on_failure_asks_only_after_a_sandbox_denial(lab: Lab) -> None:
    target = lab.outside / "x"
    out = lab.run([sh(f"touch {target}")], policy="on-failure", answers=[A])
    assert len(out.asked) == 1 and "sandbox denied" in out.asked[0].reason
    assert out.asked[0].sandboxed is False  # the question says the re-run leaves the sandbox
    assert [c.sandboxed for c in out.commands] == [True, False]
    assert target.exists()


def test_on_failure_denied_rerun_leaves_the_outside_untouched(lab: Lab) -> None:
    target = lab.outside / "x"
    out = lab.run([sh(f"touch {target}")], policy="on-failure", answers=[D])
    assert not target.exists()
    assert "denied" in out.outputs["c1"]


def test_on_failure_ordinary_failure_goes_straight_back(lab: Lab) -> None:
    out = lab.run([sh("exit 3")], policy="on-failure")
    assert out.asked == []
    assert out.outputs["c1"].startswith("Exit code: 3")


# ---------------------------------------------------------------- on-request


def test_on_request_escalation_asks_with_the_justification_then_runs_unsandboxed(lab: Lab) -> None:
    target = lab.outside / "x"
    call = sh(f"touch {target}", with_escalated_permissions=True, justification="needs to write the cache")
    out = lab.run([call], policy="on-request", answers=[A])
    assert "needs to write the cache" in out.asked[0].reason
    assert [c.sandboxed for c in out.commands] == [False]
    assert target.exists()


def test_on_request_sandbox_failure_goes_back_to_the_model(lab: Lab) -> None:
    target = lab.outside / "x"
    out = lab.run([sh(f"touch {target}")], policy="on-request")
    assert out.asked == []
    assert not target.exists()
    assert "sandbox denied" in out.outputs["c1"]


def test_on_request_advertises_escalation_parameters_and_others_do_not(lab: Lab) -> None:
    lab.run([], policy="on-request")
    lab.run([], policy="never")
    shells = [
        next(t for t in r.json["tools"] if t["name"] == "shell")["parameters"]["properties"] for r in lab.mock.requests
    ]
    assert "with_escalated_permissions" in shells[0] and "justification" in shells[0]
    assert "with_escalated_permissions" not in shells[1]


# ---------------------------------------------------------------- never


def test_never_rejects_escalation_without_asking(lab: Lab) -> None:
    target = lab.outside / "x"
    call = sh(f"touch {target}", with_escalated_permissions=True, justification="please")
    out = lab.run([call], policy="never")
    assert out.asked == []
    assert not target.exists()


def test_never_sandbox_denial_is_reported_to_the_model(lab: Lab) -> None:
    target = lab.outside / "x"
    out = lab.run([sh(f"touch {target}")], policy="never")
    assert out.asked == []
    assert not target.exists()
    assert "sandbox denied" in out.outputs["c1"]


def test_danger_full_access_runs_unsandboxed_without_asking(lab: Lab) -> None:
    target = lab.outside / "x"
    out = lab.run([sh(f"touch {target}")], policy="never", sandbox="danger-full-access")
    assert out.asked == []
    assert [c.sandboxed for c in out.commands] == [False]
    assert target.exists()


# ---------------------------------------------------------------- no sandbox available


@pytest.mark.parametrize("policy", ["untrusted", "on-failure", "on-request"])
def test_without_a_backend_asking_policies_ask_before_running_unconfined(lab: Lab, policy: str) -> None:
    out = lab.run([sh("touch made.txt")], policy=policy, answers=[D], backends=False)
    assert len(out.asked) == 1 and "no sandbox backend" in out.asked[0].reason
    assert out.commands == []
    assert not (lab.ws / "made.txt").exists()


def test_without_a_backend_never_refuses_with_an_actionable_message(lab: Lab) -> None:
    out = lab.run([sh("touch made.txt")], policy="never", backends=False)
    assert out.asked == [] and out.commands == []
    assert not (lab.ws / "made.txt").exists()
    assert "no sandbox backend" in out.outputs["c1"]


# ---------------------------------------------------------------- patches


def patch_call(path: Path | str) -> Call:
    return Call("apply_patch", {"input": f"*** Begin Patch\n*** Add File: {path}\n+hi\n*** End Patch\n"}, "p1")


@pytest.mark.parametrize("policy", ["on-failure", "on-request", "never"])
def test_patch_inside_the_workspace_is_auto_approved(lab: Lab, policy: str) -> None:
    out = lab.run([patch_call("new.txt")], policy=policy)
    assert out.asked == []
    assert (lab.ws / "new.txt").read_text() == "hi\n"


def test_patch_under_untrusted_asks_and_shows_the_diff(lab: Lab) -> None:
    out = lab.run([patch_call("new.txt")], policy="untrusted", answers=[A])
    assert len(out.asked) == 1 and "+hi" in out.asked[0].diff
    assert (lab.ws / "new.txt").exists()


@pytest.mark.parametrize("policy", ["on-failure", "on-request"])
def test_patch_leaving_the_roots_asks(lab: Lab, policy: str) -> None:
    target = lab.outside / "new.txt"
    out = lab.run([patch_call(target)], policy=policy, answers=[D])
    assert len(out.asked) == 1
    assert not target.exists()


def test_patch_leaving_the_roots_through_dotdot_or_symlink_is_caught(lab: Lab) -> None:
    (lab.ws / "link").symlink_to(lab.outside)
    out = lab.run([patch_call("../outside/a.txt"), patch_call("link/b.txt")], policy="never")
    assert out.asked == []
    assert list(lab.outside.iterdir()) == []


def test_patch_into_dot_git_is_not_auto_approved(lab: Lab) -> None:
    (lab.ws / ".git").mkdir()
    out = lab.run([patch_call(".git/hooks/pre-commit")], policy="on-request", answers=[D])
    assert len(out.asked) == 1
    assert not (lab.ws / ".git/hooks/pre-commit").exists()


def test_patch_under_read_only_asks(lab: Lab) -> None:
    out = lab.run([patch_call("new.txt")], policy="on-request", sandbox="read-only", answers=[D])
    assert len(out.asked) == 1
    assert not (lab.ws / "new.txt").exists()
