"""Approval policies: for each command or patch, run sandboxed, run unsandboxed, ask, or reject.

A policy is a plugin object registered through ``codex_approval_policies``. It sees facts (is the
command trusted? is a sandbox available? did the sandbox deny the last run?) and returns a
decision; asking the person and running the command are the engine's job.

Design choices (documented for users in the README):
- Trusted commands (known-safe, or approved for this session) run without asking but still in
  the sandbox: being read-only-safe is no reason to drop confinement.
- Every question says where the approved command will run (``Decision.sandboxed``), and the
  answer covers exactly that: one question per command. Under ``untrusted`` a command that needs
  approval runs outside the sandbox when the sandbox would stop its work (a read-only sandbox,
  or a write target outside the writable roots: ``codex.approval.placement``), else inside.
- A command approved to run inside that the sandbox then demonstrably denies is asked about once
  more before it runs outside (under ``never``, that goes back to the model): what the person
  approved never silently grows into a run outside the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, runtime_checkable


class Action(str, Enum):
    """What to do with a command or patch."""

    RUN_SANDBOXED = "run-sandboxed"
    RUN_UNSANDBOXED = "run-unsandboxed"
    ASK = "ask"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class CommandFacts:
    """Everything a policy may weigh about one shell call.

    ``trust`` is the (trusted, reason) pair, or a function that works it out: classifying a
    command parses it, and a policy that never reads ``trusted`` should not pay for that.
    """

    trust: tuple[bool, str] | Callable[[], tuple[bool, str]]
    sandbox_mode: str
    sandbox_available: bool
    escalation_requested: bool = False
    justification: str | None = None
    # (outside, why): whether an approved run must leave the sandbox to do its work, or a function
    # that works it out (``codex.approval.placement.predict_placement``).
    placement: tuple[bool, str] | Callable[[], tuple[bool, str]] = (False, "")

    @property
    def trusted(self) -> bool:
        """Known-safe, or approved by the person for this session."""
        return self._trust()[0]

    @property
    def trust_reason(self) -> str:
        """Why the command is (or is not) trusted, in words for the person."""
        return self._trust()[1]

    @property
    def needs_unsandboxed(self) -> bool:
        """The sandbox would stop this command's work (read-only, or a write target it refuses)."""
        return self._placement()[0]

    @property
    def unsandboxed_reason(self) -> str:
        """Why it must run outside the sandbox, in words for the person ("" when it need not)."""
        return self._placement()[1]

    def _placement(self) -> tuple[bool, str]:
        if callable(self.placement):
            object.__setattr__(self, "placement", self.placement())  # worked out once, on first read
        assert isinstance(self.placement, tuple)
        return self.placement

    def _trust(self) -> tuple[bool, str]:
        if callable(self.trust):
            object.__setattr__(self, "trust", self.trust())  # worked out once, on first read
        assert isinstance(self.trust, tuple)
        return self.trust


@dataclass(frozen=True, slots=True)
class PatchFacts:
    """Everything a policy may weigh about one patch."""

    inside_writable_roots: bool
    sandbox_mode: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer; ``reason`` is shown to the person when asking, or to the model.

    ``sandboxed`` (with ``ASK``) is where the command runs once approved, and the question says
    so: True inside the sandbox, False outside. None leaves it to the engine: outside only when
    the model asked for escalated permissions or no sandbox is available.
    """

    action: Action
    reason: str = ""
    sandboxed: bool | None = None


@runtime_checkable
class ApprovalPolicy(Protocol):
    """A named approval policy.

    ``offers_escalation`` says whether the shell tool advertises ``with_escalated_permissions``
    and ``justification`` to the model (only on-request does).
    """

    name: str
    description: str
    offers_escalation: bool

    def decide_command(self, facts: CommandFacts) -> Decision:
        """Before running a command."""
        ...

    def after_sandbox_denial(self, facts: CommandFacts, denial: str) -> Decision:
        """After a sandboxed run failed and the evidence says the sandbox denied it."""
        ...

    def decide_patch(self, facts: PatchFacts) -> Decision:
        """Before applying a patch."""
        ...


_NO_SANDBOX = (
    "no sandbox backend is available on this machine (see `codex sandbox status`), "
    "so this command would run unconfined"
)

_RERUN = "the sandbox denied it ({denial}); run it again outside the sandbox?"


class _BasePolicy:
    """Shared rules; subclasses change the few places where the four policies differ."""

    name = ""
    description = ""
    offers_escalation = False
    asks = True  # False for `never`: every "ask" becomes a rejection the model can act on

    def _ask(self, reason: str, sandboxed: bool | None = None) -> Decision:
        if self.asks:
            return Decision(Action.ASK, reason, sandboxed)
        return Decision(
            Action.REJECT,
            f"rejected without asking (approval_policy = never): {reason}. "
            "Try a different approach that works inside the sandbox.",
        )

    def _run(self, facts: CommandFacts) -> Decision:
        if facts.sandbox_mode == "danger-full-access":
            return Decision(Action.RUN_UNSANDBOXED, "danger-full-access")
        if not facts.sandbox_available:
            return self._ask(_NO_SANDBOX, sandboxed=False)
        return Decision(Action.RUN_SANDBOXED, "runs in the sandbox")

    def decide_command(self, facts: CommandFacts) -> Decision:
        return self._run(facts)

    def after_sandbox_denial(self, facts: CommandFacts, denial: str) -> Decision:
        return Decision(Action.REJECT, f"the sandbox denied it: {denial}")

    def decide_patch(self, facts: PatchFacts) -> Decision:
        if facts.sandbox_mode == "danger-full-access" or (
            facts.inside_writable_roots and facts.sandbox_mode == "workspace-write"
        ):
            return Decision(Action.RUN_UNSANDBOXED, "every path is inside the writable roots")
        return self._ask("the patch writes outside the writable roots")


class UntrustedPolicy(_BasePolicy):
    """Ask before every command that is not known-safe or approved for the session."""

    name = "untrusted"
    description = "ask before running anything not known to be safe"

    def decide_command(self, facts: CommandFacts) -> Decision:
        if not facts.trusted:
            reason = facts.trust_reason
            if facts.sandbox_mode == "danger-full-access":
                return Decision(Action.ASK, reason, sandboxed=False)
            if not facts.sandbox_available:
                return Decision(Action.ASK, f"{reason}; also, {_NO_SANDBOX}", sandboxed=False)
            if facts.needs_unsandboxed:
                return Decision(Action.ASK, f"{reason}; {facts.unsandboxed_reason}", sandboxed=False)
            return Decision(Action.ASK, reason, sandboxed=True)
        return self._run(facts)

    def after_sandbox_denial(self, facts: CommandFacts, denial: str) -> Decision:
        return Decision(Action.ASK, _RERUN.format(denial=denial), sandboxed=False)

    def decide_patch(self, facts: PatchFacts) -> Decision:
        return Decision(Action.ASK, "untrusted: every patch is shown before it is applied")


class OnFailurePolicy(_BasePolicy):
    """Run everything in the sandbox; ask only when the sandbox denied something."""

    name = "on-failure"
    description = "run in the sandbox; ask to re-run unsandboxed when the sandbox denies it"

    def after_sandbox_denial(self, facts: CommandFacts, denial: str) -> Decision:
        return Decision(Action.ASK, _RERUN.format(denial=denial), sandboxed=False)


class OnRequestPolicy(_BasePolicy):
    """Run in the sandbox; the model may ask to escalate, which asks the person."""

    name = "on-request"
    description = "run in the sandbox; the model asks when it needs more"
    offers_escalation = True

    def decide_command(self, facts: CommandFacts) -> Decision:
        if facts.escalation_requested and facts.sandbox_mode != "danger-full-access":
            why = facts.justification or "(no justification given)"
            return Decision(Action.ASK, f"the model asks to run this without the sandbox: {why}", sandboxed=False)
        return self._run(facts)


class NeverPolicy(_BasePolicy):
    """Never ask: failures go back to the model; what would need approval is rejected."""

    name = "never"
    description = "never ask; what would need approval is rejected"
    asks = False


def builtin_policies() -> dict[str, ApprovalPolicy]:
    """The four built-ins, keyed by their config names."""
    policies: list[ApprovalPolicy] = [UntrustedPolicy(), OnFailurePolicy(), OnRequestPolicy(), NeverPolicy()]
    return {p.name: p for p in policies}
