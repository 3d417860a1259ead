"""Calling the interception and observation hooks for a session, each fault kept at its seam.

``ToolGate`` asks ``codex_before_tool_call`` about every call and turns the answers into one
verdict: the arguments to run with, or a result for the model. ``EventObservers`` hands every
event to ``codex_event``; an observer that raises or overruns is reported once and dropped, and
the session goes on. Both call the hooks through pluggy (``pm.hook.<name>``), so ``tryfirst``,
``trylast`` and wrappers mean what pluggy's docs say.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Collection, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex.errors import CodexError

if TYPE_CHECKING:
    from codex.config.model import Config
    from codex.events import Event
    from codex.hook_types import ToolCall
    from codex.plugins import CodexPluginManager
    from codex.tools.base import ToolContext, ToolResult

# How long an async observer may take with one event before it is dropped.
OBSERVER_TIMEOUT_SEC = 5.0

_GATE = "codex_before_tool_call"
_OBSERVER = "codex_event"

def _precedence() -> tuple[type, ...]:
    """The decision types, strictest first: the kind of answer that wins when plugins disagree.

    Imported on the first gated call: a session whose plugins never gate pays nothing for them.
    """
    from codex.hook_types import Allow, Ask, Deny, Rewrite

    return (Deny, Ask, Rewrite, Allow)


class SessionHookContext:
    """The ``HookContext`` of one session: read-only views of its facts."""

    def __init__(self, session: Any) -> None:
        self._session = session

    @property
    def session_id(self) -> str:
        return str(self._session.session_id)

    @property
    def cwd(self) -> Path:
        return Path(self._session.cwd)

    @property
    def config(self) -> Config:
        return self._session.config  # type: ignore[no-any-return]

    @property
    def model(self) -> str:
        return str(self._session.model)

    def turn_input(self) -> list[str]:
        return list(self._session.turn_input)


def _plugin_label(plugin: str | None) -> str:
    return f"plugin {plugin!r}" if plugin else "a plugin"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, CodexError):  # already a sentence meant for people
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _disable_hint(pm: CodexPluginManager, plugin: str | None) -> str:
    record = pm.records.get(plugin or "")
    if record is not None and record.builtin:
        return ""  # core built-ins cannot be disabled; their message says what to fix
    return f" (fix it, or disable it with CODEX_DISABLE_PLUGINS={plugin or '<name>'})"


class ToolGate:
    """The one gate every tool call passes before the approval policy and the sandbox."""

    def __init__(self, pm: CodexPluginManager, context: Any, timeout_sec: float) -> None:
        self.pm = pm
        self.context = context
        self.timeout_sec = timeout_sec

    @staticmethod
    def wanted(pm: CodexPluginManager) -> bool:
        """Whether any plugin implements the gate (none: calls skip it entirely)."""
        return bool(pm.hook.codex_before_tool_call.get_hookimpls())

    async def check(
        self, name: str, plugin: str, arguments: dict[str, Any], ctx: ToolContext, turn_id: str
    ) -> dict[str, Any] | ToolResult:
        """The arguments to run the call with, or the failed result the model gets instead."""
        from codex.hook_types import Ask, Deny, Rewrite, ToolCall
        from codex.tools.base import ToolResult

        call = ToolCall(name, dict(arguments), ctx.call_id, turn_id, plugin)
        answers: list[Any] = []
        decisions: list[Any] = []
        try:
            answers = self.pm.hook.codex_before_tool_call(call=call, context=self.context)
            for answer in answers:
                decisions.append(await self._settle(answer))
        except Exception as exc:
            for unsettled in answers[len(decisions) + 1 :]:
                if inspect.iscoroutine(unsettled):
                    unsettled.close()  # never awaited: no "was never awaited" warning on stderr
            return self._fault(name, exc)
        for kind in _precedence():
            chosen = next((d for d in decisions if isinstance(d, kind)), None)
            if chosen is None:
                continue
            if isinstance(chosen, Deny):
                return ToolResult(f"error: the call of {name} was denied: {chosen.reason}", False)
            if isinstance(chosen, Ask):
                return await self._ask(call, chosen.reason, ctx)
            if isinstance(chosen, Rewrite):
                return dict(chosen.arguments)
            break
        return dict(arguments)

    async def _settle(self, answer: Any) -> Any:
        if inspect.isawaitable(answer):
            async with asyncio.timeout(self.timeout_sec):
                answer = await answer
        if answer is not None and not isinstance(answer, _precedence()):
            raise TypeError(f"{_GATE} returned {answer!r}, not None, Allow, Deny, Ask or Rewrite")
        return answer

    def _fault(self, name: str, exc: Exception) -> ToolResult:
        from codex.tools.base import ToolResult

        plugin = self.pm.plugin_that_raised(_GATE, exc)
        if isinstance(exc, TimeoutError):
            what = f"did not answer in {_GATE} within {self.timeout_sec:g} s (tool_timeout_sec)"
        else:
            what = f"failed in {_GATE}: {_describe(exc)}"
        return ToolResult(
            f"error: the call of {name} was stopped: {_plugin_label(plugin)} {what}{_disable_hint(self.pm, plugin)}",
            False,
        )

    async def _ask(self, call: ToolCall, reason: str, ctx: ToolContext) -> dict[str, Any] | ToolResult:
        from codex.events import ReviewDecision
        from codex.tools.base import ToolResult, TurnAborted

        if not getattr(ctx.approval_policy, "asks", True):
            return ToolResult(
                f"error: the call of {call.name} was rejected without asking (approval_policy = never): "
                f"{reason}. Try a different approach.",
                False,
            )
        command = call.arguments.get("command")
        if call.name != "shell" or not isinstance(command, list):
            command = [call.name, json.dumps(call.arguments, ensure_ascii=False)]
        answer = await ctx.ask_exec_approval([str(part) for part in command], ctx.cwd, reason)
        if answer.decision is ReviewDecision.ABORT:
            raise TurnAborted("the person aborted the turn")
        if answer.decision is ReviewDecision.DENIED:
            why = f" ({answer.feedback})" if answer.feedback else ""
            return ToolResult(f"error: the person declined the call of {call.name}{why}: {reason}", False)
        return dict(call.arguments)


class EventObservers:
    """Every event to ``codex_event``; a failing observer is reported once, then left out."""

    def __init__(
        self, pm: CodexPluginManager, context: Any, warn: Callable[[str], None], idle: Collection[str] = ()
    ) -> None:
        self.pm = pm
        self.context = context
        self.warn = warn
        # ``idle``: plugins with nothing to do in this session (the built-in notify without a
        # `notify` program), left out so that no streamed delta pays for calling them.
        self.dropped: set[str] = set(idle)
        self._caller: Any = pm.hook.codex_event
        if self.dropped:
            self._caller = pm.subset_hook_caller(
                _OBSERVER, remove_plugins=[p for n, p in pm.list_name_plugin() if n in self.dropped]
            )
        self._pending: set[asyncio.Task[Any]] = set()

    @staticmethod
    def wanted(pm: CodexPluginManager, idle: Collection[str] = ()) -> bool:
        """Whether any plugin observes events (``idle`` ones aside)."""
        return any(impl.plugin_name not in idle for impl in pm.hook.codex_event.get_hookimpls())

    def deliver(self, event: Event) -> None:
        """Hand one event to every observer; never raises."""
        self._call(self._caller, event)

    def _call(self, caller: Any, event: Event) -> None:
        try:
            answers = caller(event=event, context=self.context)
        except Exception as exc:
            plugin = self.pm.plugin_that_raised(_OBSERVER, exc)
            self._drop(plugin, f"failed in {_OBSERVER}: {_describe(exc)}")
            # pluggy stopped at the one that raised: the observers after it still get the event.
            rest = self._not_yet_called(caller, plugin)
            if rest is not None:
                self._call(rest, event)
            return
        for answer in answers:
            if inspect.iscoroutine(answer):
                self._start(answer)

    def _not_yet_called(self, caller: Any, plugin: str | None) -> Any:
        if plugin is None:
            return None
        # pluggy calls implementations from the end of get_hookimpls() to its start.
        names = [impl.plugin_name for impl in caller.get_hookimpls() if not impl.hookwrapper and not impl.wrapper]
        if plugin not in names or names.index(plugin) == 0:
            return None
        keep = set(names[: names.index(plugin)])
        remove = [p for n, p in self.pm.list_name_plugin() if n not in keep]
        return self.pm.subset_hook_caller(_OBSERVER, remove_plugins=remove)

    def _drop(self, plugin: str | None, what: str) -> None:
        key = plugin or "(unknown)"
        if key in self.dropped:
            return
        self.dropped.add(key)
        if plugin is not None:
            self._caller = self.pm.subset_hook_caller(
                _OBSERVER, remove_plugins=[p for n, p in self.pm.list_name_plugin() if n in self.dropped]
            )
        self.warn(
            f"{_plugin_label(plugin)} {what}; it is not called again in this session{_disable_hint(self.pm, plugin)}"
        )

    def _start(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        plugin = self._owner_of(coroutine)
        if plugin in self.dropped:
            coroutine.close()
            return

        async def bounded() -> None:
            try:
                await asyncio.wait_for(coroutine, OBSERVER_TIMEOUT_SEC)
            except TimeoutError:
                self._drop(plugin, f"did not finish in {_OBSERVER} within {OBSERVER_TIMEOUT_SEC:g} s")
            except Exception as exc:
                self._drop(plugin, f"failed in {_OBSERVER}: {_describe(exc)}")

        try:
            task = asyncio.get_running_loop().create_task(bounded())
        except RuntimeError:  # no loop (the session is gone): nobody could wait for it
            coroutine.close()
            return
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _owner_of(self, coroutine: Coroutine[Any, Any, Any]) -> str | None:
        code = getattr(coroutine, "cr_code", None)
        for impl in self.pm.hook.codex_event.get_hookimpls():
            if getattr(impl.function, "__code__", None) is code:
                return impl.plugin_name
        return None

    async def drain(self) -> None:
        """Let async observers still at work finish (each is bounded by its own time limit)."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=OBSERVER_TIMEOUT_SEC)

