"""A third party's approval policy registers through the same hook and can be switched to."""

from __future__ import annotations

import asyncio
from pathlib import Path

from codex import events as ev
from codex.approval.policy import Action, CommandFacts, Decision, PatchFacts
from codex.config.loader import load_config
from codex.engine import open_session
from codex.hookspecs import hookimpl
from codex.plugins import make_plugin_manager
from tests.mock_model import Call, MockModelServer, Text


class Paranoid:
    """Refuses every command and patch, with a reason the model can read."""

    name = "paranoid"
    description = "refuse everything"
    offers_escalation = False

    def decide_command(self, facts: CommandFacts) -> Decision:
        return Decision(Action.REJECT, "the paranoid policy refuses every command")

    def after_sandbox_denial(self, facts: CommandFacts, denial: str) -> Decision:
        return Decision(Action.REJECT, denial)

    def decide_patch(self, facts: PatchFacts) -> Decision:
        return Decision(Action.REJECT, "the paranoid policy refuses every patch")


class ParanoidPlugin:
    @hookimpl
    def codex_approval_policies(self) -> dict[str, Paranoid]:
        return {"paranoid": Paranoid()}


def test_switching_to_a_plugin_policy_mid_session(mock_model: MockModelServer, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    mock_model.responses_text("first turn, default policy")
    mock_model.responses_turn(Call("shell", {"command": ["touch", str(marker)]}, "c1"))
    mock_model.responses_turn(Text("refused"))

    async def scenario() -> None:
        pm = make_plugin_manager(extra=[("paranoid", ParanoidPlugin())])
        loaded = load_config(
            home=tmp_path,
            cwd=tmp_path,
            cli_overrides=['model_provider="mock"', f'model_providers.mock={{base_url="{mock_model.base_url}"}}'],
            flags={"sandbox_mode": "danger-full-access", "approval_policy": "never"},
        )
        session = await open_session(pm, loaded, record=False)
        try:
            for text in ("hello", "now touch the marker"):
                session.submit(ev.UserInput(text))
                while not isinstance((await asyncio.wait_for(session.next_event(), 30)).msg, ev.TaskComplete):
                    pass
                session.submit(ev.OverrideTurnContext(approval_policy="paranoid"))
        finally:
            await session.close()

    asyncio.run(scenario())
    assert not marker.exists()
    outputs = [i for i in mock_model.requests[2].json["input"] if i.get("type") == "function_call_output"]
    assert "paranoid policy refuses every command" in outputs[0]["output"]


def test_trust_is_worked_out_only_for_a_policy_that_reads_it() -> None:
    from codex.approval.policy import builtin_policies

    policies = builtin_policies()
    for name, reads_trust in (("never", False), ("on-request", False), ("on-failure", False), ("untrusted", True)):
        calls: list[int] = []

        def classify(calls: list[int] = calls) -> tuple[bool, str]:
            calls.append(1)
            return False, "`rm` is not known to be safe"

        facts = CommandFacts(trust=classify, sandbox_mode="workspace-write", sandbox_available=True)
        decision = policies[name].decide_command(facts)
        assert len(calls) == (1 if reads_trust else 0), name
        if reads_trust:
            assert decision.action is Action.ASK and "`rm` is not known to be safe" in decision.reason
            assert facts.trusted is False and len(calls) == 1  # worked out once
