"""The agent loop: ops in, events out.

A ``Session`` owns its history and runs one turn at a time as an asyncio task: sample the
model, run the tool calls it asked for, feed the outputs back, repeat until it answers without
tools. Faces (exec, the MCP server, the terminal UI) only ``submit`` ops and read ``next_event``.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex import events as ev
from codex.context_window import ContextTracker, model_view
from codex.errors import CodexError, ProviderError
from codex.hook_calls import EventObservers, SessionHookContext, ToolGate
from codex.ids import random_uuid
from codex.instructions import BASE_INSTRUCTIONS, collect_agents_md, environment_context
from codex.plugins import NOTIFY_PLUGIN
from codex.protocol import (
    Completed,
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    ImageInput,
    InputItem,
    Message,
    OutputItemDone,
    OutputTextDelta,
    Prompt,
    Reasoning,
    ReasoningContentDelta,
    ReasoningSummaryDelta,
    StreamRetrying,
    TokenUsage,
)
from codex.tools.base import CommandResult, ToolRegistry, ToolResult, TurnAborted

if TYPE_CHECKING:
    from codex.approval.policy import ApprovalPolicy
    from codex.config.loader import LoadedConfig
    from codex.config.model import Config
    from codex.rollout import RolloutRecorder
    from codex.sandbox import ConfinedSpawner, SandboxBackend, SandboxPolicy
    from codex.services import SessionServices


class Session:
    """One conversation with the model, driven through a queue pair."""

    def __init__(
        self,
        loaded: LoadedConfig,
        services: SessionServices,
        *,
        session_id: str | None = None,
        history: list[InputItem] | None = None,
        rollout: RolloutRecorder | None = None,
    ) -> None:
        self.loaded = loaded
        self.config = loaded.config
        self.services = services
        self.cwd = loaded.cwd
        self.session_id = session_id or random_uuid()
        self.rollout = rollout
        self.history: list[InputItem] = list(history or [])
        self.hook_context = SessionHookContext(self)
        pm = services.plugin_manager
        gate = ToolGate(pm, self.hook_context, self.config.tool_timeout_sec) if pm and ToolGate.wanted(pm) else None
        self.tools = ToolRegistry(
            services.tools, services.tool_owners, self.config.tool_timeout_sec, gate.check if gate else None
        )
        idle = () if self.config.notify else (NOTIFY_PLUGIN,)
        self.observers = (
            EventObservers(pm, self.hook_context, self._warn, idle) if pm and EventObservers.wanted(pm, idle) else None
        )
        # The person's messages of the running turn (hooks read them through hook_context).
        self.turn_input: list[str] = []
        self.model = self.config.model
        self.approval_policy = services.approval_policy
        self.approved_commands: set[tuple[str, ...]] = set()
        self.approved_prefixes: list[tuple[str, ...]] = []
        self.total_usage = TokenUsage()
        # Window, compaction threshold, tool output budget, and the tokens the history holds.
        self.context = ContextTracker.for_session(self.config, services.provider, self.model)
        self._auto_compact_failed = False
        self._events: asyncio.Queue[ev.Event] = asyncio.Queue()
        # Event types the face does not read (exec shows whole items, never their streamed
        # pieces): they still reach observing plugins but skip the face's queue, which costs a
        # put, a get and a wake-up per delta of a long answer.
        self.unread: frozenset[type] = frozenset()
        self._ops: asyncio.Queue[tuple[str, ev.Op]] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._approvals: dict[str, asyncio.Future[ev.ApprovalAnswer]] = {}
        self._turn: asyncio.Task[None] | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._queued_inputs: list[tuple[str, ev.UserInput]] = []
        self._spawner: ConfinedSpawner | None = None
        # Resources opened for the session (MCP connections) and what they had to say at start.
        self.closers: list[Callable[[], Awaitable[None]]] = []
        self.notices: list[str] = []
        self._spawner_failed = False

    # ------------------------------------------------------------------ the face's side

    async def start(self) -> None:
        """Announce the session and start serving ops."""
        resumed = bool(self.history)
        if not resumed:
            for item in self._initial_context():
                self._record(item)
        self._emit(
            "0",
            ev.SessionConfigured(
                self.session_id,
                self.model,
                self.services.provider.id,
                str(self.cwd),
                self.approval_policy.name,
                self.services.sandbox_policy.describe(),
                self.services.sandbox_backend_name,
                str(self.rollout.path) if self.rollout else None,
                list(self.history) if resumed else [],
            ),
        )
        for notice in self.notices:
            self._emit("0", ev.BackgroundEvent(f"warning: {notice}"))
        self._loop_task = asyncio.create_task(self._serve_ops())
        self._loop_task.add_done_callback(self._op_loop_ended)

    def submit(self, op: ev.Op) -> str:
        """Queue an op; returns its submission id (events of that turn carry it)."""
        sub_id = str(next(self._ids))
        self._ops.put_nowait((sub_id, op))
        return sub_id

    async def next_event(self) -> ev.Event:
        return await self._events.get()

    async def close(self) -> None:
        """Stop the running turn (if any) and the op loop."""
        self.submit(ev.Shutdown())
        if self._loop_task is not None:
            try:
                await asyncio.wait_for(self._loop_task, 10)
            except TimeoutError:
                self._loop_task.cancel()
        if self.observers is not None:
            await self.observers.drain()
        if self.rollout is not None:
            self.rollout.close()
        for closer in self.closers:
            try:
                await asyncio.wait_for(closer(), 10)
            except Exception as exc:  # closing must not hide the turn's result
                self._emit("0", ev.BackgroundEvent(f"warning: closing a session resource failed: {exc}"))
        self.closers.clear()
        if self._spawner is not None:
            self._spawner.close()
            self._spawner = None
        aclose = getattr(self.services.wire, "aclose", None)
        if aclose is not None:
            # Pooled HTTP connections belong to this loop; close them before it ends.
            await aclose()

    # ------------------------------------------------------------------ ops

    async def _serve_ops(self) -> None:
        while True:
            sub_id, op = await self._ops.get()
            if isinstance(op, ev.UserInput):
                if self._turn is None or self._turn.done():
                    self._turn = asyncio.create_task(self._run_turn(sub_id, op))
                    self._turn.add_done_callback(functools.partial(self._turn_ended, sub_id))
                else:
                    self._queued_inputs.append((sub_id, op))
            elif isinstance(op, ev.ApprovalAnswer):
                future = self._approvals.pop(op.request_id, None)
                if future is not None and not future.done():
                    future.set_result(op)
            elif isinstance(op, ev.Interrupt):
                await self._interrupt()
            elif isinstance(op, ev.OverrideTurnContext):
                self._override(op)
            elif isinstance(op, ev.Compact):
                if self._turn is None or self._turn.done():
                    self._turn = asyncio.create_task(self._run_compact(sub_id))
                    self._turn.add_done_callback(functools.partial(self._turn_ended, sub_id))
                else:
                    self._emit(sub_id, ev.BackgroundEvent("warning: not compacting while a turn runs; "
                                                          "interrupt it or wait for it to end"))
            elif isinstance(op, ev.Shutdown):
                await self._interrupt()
                self._emit(sub_id, ev.ShutdownComplete())
                return

    def _turn_ended(self, sub_id: str, task: asyncio.Task[None]) -> None:
        """Belt and braces: a turn task that died of anything still ends its turn for the face."""
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        self._emit(sub_id, ev.Error(f"the turn failed unexpectedly ({type(exc).__name__}: {exc}); {_BUG_HINT}"))

    def _op_loop_ended(self, task: asyncio.Task[None]) -> None:
        """If the op loop itself died, say so and end the session: no face waits on it forever."""
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        self._emit("0", ev.Error(f"the session stopped unexpectedly ({type(exc).__name__}: {exc}); {_BUG_HINT}"))
        self._emit("0", ev.ShutdownComplete())

    async def _interrupt(self) -> None:
        if self._turn is not None and not self._turn.done():
            self._turn.cancel()
            await asyncio.gather(self._turn, return_exceptions=True)

    def _override(self, op: ev.OverrideTurnContext) -> None:
        if op.model:
            self.model = op.model
            self.context.retarget(self.config, self.services.provider, self.model)
        if op.approval_policy:
            policies = self.services.approval_policies
            if op.approval_policy in policies:
                self.approval_policy = policies[op.approval_policy]
            else:
                known = ", ".join(sorted(policies))
                warning = f"warning: unknown approval policy {op.approval_policy!r}; known: {known}"
                self._emit("0", ev.BackgroundEvent(warning))

    # ------------------------------------------------------------------ the turn

    async def _run_turn(self, sub_id: str, op: ev.UserInput) -> None:
        self.turn_input = [op.text]
        self._auto_compact_failed = False
        self._emit(sub_id, ev.TaskStarted())
        self._record(Message("user", op.text, images=op.images))
        if self.services.sandbox_policy.is_restrictive:
            # Started now, the fork server's interpreter boots while the model answers, and the
            # turn's first confined command does not wait for it (~20-30 ms).
            self.confined_spawner()
        last_message: str | None = None
        try:
            while True:
                items = await self._sample_within_window(sub_id, op.output_schema)
                for item in items:
                    self._record(item)
                    if isinstance(item, Message) and item.role == "assistant":
                        last_message = item.text
                calls = [i for i in items if isinstance(i, FunctionCall | CustomToolCall)]
                if not calls:
                    if self._queued_inputs:  # input typed during the turn joins it
                        for _, queued in self._queued_inputs:
                            self.turn_input.append(queued.text)
                            self._record(Message("user", queued.text, images=queued.images))
                        self._queued_inputs.clear()
                        continue
                    break
                attached: list[ImageInput] = []
                for call in calls:
                    output, images = await self._call_tool(sub_id, call)
                    self._record(output)
                    attached.extend(images)
                if attached:
                    # After every output of the batch: Chat wants the tool messages together.
                    self._record(Message("user", _attached_note(attached), images=tuple(attached)))
            if op.output_schema is not None:
                self._check_answer(op.output_schema, last_message)
        except BaseException as exc:
            if self._turn_failed(sub_id, exc):
                raise
            return
        self._emit(sub_id, ev.TaskComplete(last_message))

    def _turn_failed(self, sub_id: str, exc: BaseException) -> bool:
        """End the turn ``sub_id`` for the face after ``exc``; True when it must propagate."""
        if isinstance(exc, TurnAborted):
            self._emit(sub_id, ev.TurnAborted("aborted"))
            self._emit(sub_id, ev.BackgroundEvent(str(exc)))
        elif isinstance(exc, asyncio.CancelledError):
            self._cancel_pending_approvals()
            self._emit(sub_id, ev.TurnAborted("interrupted"))
        elif isinstance(exc, CodexError):
            self._emit(sub_id, ev.Error(str(exc)))
        elif isinstance(exc, Exception):
            # Every plugin call below is guarded; this is what none of them foresaw.
            _debug_traceback()
            self._emit(sub_id, ev.Error(f"the turn failed unexpectedly ({type(exc).__name__}: {exc}); {_BUG_HINT}"))
        else:
            return True  # KeyboardInterrupt, SystemExit: not the turn's to swallow
        return False

    async def _run_compact(self, sub_id: str) -> None:
        """The Compact op: a turn that only summarises the conversation."""
        self._emit(sub_id, ev.TaskStarted())
        if not self._may_compact(self._prompt()):
            why = "the conversation has just begun or was just compacted"
            self._emit(sub_id, ev.BackgroundEvent(f"nothing to compact: {why}"))
            self._emit(sub_id, ev.TaskComplete(None))
            return
        try:
            await self._compact(sub_id, "manual")
        except BaseException as exc:
            if self._turn_failed(sub_id, exc):
                raise
            return
        self._emit(sub_id, ev.TaskComplete(None))

    # ------------------------------------------------------------------ the context window

    async def _sample_within_window(
        self, sub_id: str, output_schema: dict[str, Any] | None = None
    ) -> list[InputItem]:
        """Sample, compacting first when the request would pass the threshold, and once more
        (then retrying) when the provider says the request does not fit its window."""
        from codex.wire import ContextWindowExceeded

        prompt = self._prompt()
        tokens = self.context.tokens_for(prompt)
        if self.context.should_compact(tokens) and self._may_compact(prompt) and not self._auto_compact_failed:
            try:
                await self._compact(sub_id, "auto", tokens)
                prompt = self._prompt()
            except ProviderError as exc:
                # The request itself still fits the window (the threshold leaves room): go on
                # uncompacted rather than end the turn, and do not ask again this turn; a
                # refusal from the provider still compacts once.
                self._auto_compact_failed = True
                self._emit(sub_id, ev.BackgroundEvent(f"warning: {exc}"))
        try:
            return await self._sample(sub_id, prompt, output_schema)
        except ContextWindowExceeded as exc:
            if not self._may_compact(prompt):
                raise
            self._emit(sub_id, ev.BackgroundEvent(f"warning: {exc} Compacting the conversation and retrying once."))
            await self._compact(sub_id, "context_length_exceeded", tokens)
            return await self._sample(sub_id, self._prompt(), output_schema)

    def _may_compact(self, prompt: Prompt) -> bool:
        """Whether a compaction could shrink this request: not right after one (that would
        only summarise the summary), and not when nothing but the opening context is there."""
        from codex.compaction import SUMMARY_TAG, opening_items

        last = prompt.input[-1] if prompt.input else None
        fresh_summary = isinstance(last, Message) and last.text.startswith((f"<{SUMMARY_TAG}>", "<current_plan>"))
        return not fresh_summary and len(prompt.input) > len(opening_items(prompt.input))

    async def _compact(self, sub_id: str, reason: str, tokens_before: int | None = None) -> None:
        """Replace the history with a summary the model writes of it (see codex.compaction)."""
        from codex.compaction import (
            SUMMARY_ANSWER_RESERVE_FRACTION,
            SUMMARY_PROMPT,
            compacted_history,
            summary_input,
        )
        from codex.context_window import estimate_item_tokens
        from codex.wire import ContextWindowExceeded

        if tokens_before is None:
            tokens_before = self.context.tokens_for(self._prompt())
        ask = Message("user", SUMMARY_PROMPT)
        window = self.context.window
        # The summary request is the history plus ``ask``; what passes the window's limit (less
        # room for the answer) is left out, oldest first.
        excess = 0
        if window:
            limit = int(window * (1 - SUMMARY_ANSWER_RESERVE_FRACTION))
            excess = max(0, tokens_before + estimate_item_tokens(ask) - limit)
        if reason == "context_length_exceeded":
            excess = max(excess, tokens_before // 10)  # the provider counts more than we do
        summary: str | None = None
        for _attempt in range(2):
            kept, _left_out = summary_input(model_view(self.history, self.context.tool_output_budget), excess)
            try:
                summary = await self._summarise(sub_id, self._prompt([*kept, ask]))
                break
            except ContextWindowExceeded:
                # Our count was short of the provider's: leave out a good deal more.
                excess = max(2 * excess, tokens_before // 3)
        if summary is None:
            raise ProviderError(
                "compaction failed: even the summary request did not fit the model's context window. "
                "Set model_context_window to the model's real window, or start a new session."
            )
        items_before = len(self.history)
        replacement = compacted_history(self.history, summary, window)
        self.history = replacement
        self.context.forget()
        if self.rollout is not None:
            self.rollout.record_compaction(summary, replacement, reason)
        tokens_after = self.context.tokens_for(self._prompt())
        self._emit(
            sub_id,
            ev.ContextCompacted(reason, tokens_before, tokens_after, items_before, len(replacement), summary),
        )
        self._emit(sub_id, self._token_count(TokenUsage()))

    async def _summarise(self, sub_id: str, prompt: Prompt) -> str:
        """The summary the model answers to ``prompt`` (its text is not streamed to the face)."""
        from codex.compaction import request_summary

        def billed(usage: TokenUsage) -> None:
            # Billed like any request; the history it measured is about to be replaced.
            self.total_usage.add(usage)
            self._emit(sub_id, self._token_count(usage))

        services = self.services
        return await request_summary(services.wire, prompt, services.provider, services.wire_owner, billed)

    def _token_count(self, last: TokenUsage) -> ev.TokenCount:
        context = self.context
        return ev.TokenCount(
            last, _copy_usage(self.total_usage), context.window, context.used_tokens, context.auto_compact_limit
        )

    async def _sample(
        self, sub_id: str, prompt: Prompt, output_schema: dict[str, Any] | None = None
    ) -> list[InputItem]:
        """Stream one model response; deltas become events, complete items are returned."""
        from codex.wire import stream_with_retries

        items: list[InputItem] = []
        if output_schema is not None:
            prompt.output_schema = output_schema
        for name in list(self.tools.left_out):
            self._emit(sub_id, ev.BackgroundEvent(f"warning: {self.tools.left_out.pop(name)}"))
        wire, provider = self.services.wire, self.services.provider
        text_deltas_read = self.observers is not None or ev.AgentMessageDelta not in self.unread
        async for event in stream_with_retries(wire, prompt, provider, owner=self.services.wire_owner):
            if isinstance(event, OutputTextDelta):
                if text_deltas_read:
                    self._emit(sub_id, ev.AgentMessageDelta(event.delta))
            elif isinstance(event, ReasoningSummaryDelta | ReasoningContentDelta):
                raw_hidden = isinstance(event, ReasoningContentDelta) and self.config.show_raw_agent_reasoning is False
                if not self.config.hide_agent_reasoning and not raw_hidden:
                    self._emit(sub_id, ev.AgentReasoningDelta(event.delta))
            elif isinstance(event, OutputItemDone):
                items.append(event.item)
            elif isinstance(event, StreamRetrying):
                items.clear()  # the attempt is void: nothing of it is acted on
                self._emit(
                    sub_id,
                    ev.StreamError(
                        f"stream interrupted ({event.reason}); retrying {event.attempt}/{event.max_attempts} "
                        f"in {event.delay_seconds:.1f}s"
                    ),
                )
            elif isinstance(event, Completed) and event.usage is not None:
                self.total_usage.add(event.usage)
                # The request plus this answer is what the history will hold once its items are in.
                self.context.anchor(len(prompt.input) + len(items), event.usage)
                self._emit(sub_id, self._token_count(event.usage))
        for item in items:
            if isinstance(item, Message) and item.role == "assistant":
                self._emit(sub_id, ev.AgentMessage(item.text))
            elif isinstance(item, Reasoning) and not self.config.hide_agent_reasoning:
                raw = None if self.config.show_raw_agent_reasoning is False else item.content
                text = "\n".join(item.summary or raw or [])
                if text:
                    self._emit(sub_id, ev.AgentReasoning(text))
        return items

    async def _call_tool(
        self, sub_id: str, call: FunctionCall | CustomToolCall
    ) -> tuple[InputItem, tuple[ImageInput, ...]]:
        """The call's output item, and the images it attached for the next request."""
        context = CallContext(self, sub_id, call.call_id)
        if isinstance(call, CustomToolCall):
            # Free-form tools send raw text; apply_patch is the one built-in that accepts it.
            arguments = json.dumps({"input": call.input})
        else:
            arguments = call.arguments
        result: ToolResult = await self.tools.dispatch(call.name, arguments, context)
        images = result.images
        if isinstance(call, CustomToolCall):
            return CustomToolCallOutput(call.call_id, result.output), images
        return FunctionCallOutput(call.call_id, result.output, result.success), images

    def _check_answer(self, schema: dict[str, Any], answer: str | None) -> None:
        """Raise ``CodexError`` when the final answer does not follow the turn's output schema."""
        from codex.output_schema import answer_problem

        problem = answer_problem(schema, answer)
        if problem is not None:
            shown = f"; the answer was:\n{answer}" if answer and answer.strip() else ""
            raise CodexError(f"the final answer does not follow the output schema: {problem}{shown}")

    # ------------------------------------------------------------------ prompt and history

    def _initial_context(self) -> list[InputItem]:
        items: list[InputItem] = []
        agents, warning = collect_agents_md(
            self.cwd, self.loaded.codex_home, self.config.project_doc_max_bytes,
            fallbacks=self.config.project_doc_fallback_filenames,
        )
        if warning:
            self._emit("0", ev.BackgroundEvent(f"warning: {warning}"))
        if agents:
            items.append(Message("user", f"<user_instructions>\n{agents}\n</user_instructions>"))
        policy = self.services.sandbox_policy
        items.append(
            Message(
                "user",
                environment_context(
                    self.cwd,
                    self.approval_policy.name,
                    policy.mode.value,
                    policy.network_access,
                    [str(r) for r in policy.writable_roots],
                ),
            )
        )
        return items

    def _prompt(self, items: list[InputItem] | None = None) -> Prompt:
        """The request for the history (or ``items``) as the model sees it: long tool outputs cut."""
        config = self.config
        return Prompt(
            model=self.model,
            instructions=config.base_instructions or config.instructions or BASE_INSTRUCTIONS,
            input=model_view(self.history, self.context.tool_output_budget) if items is None else items,
            tools=self.tools.specs(),
            reasoning_effort=config.model_reasoning_effort,
            reasoning_summary=config.model_reasoning_summary,
            verbosity=config.model_verbosity,
            session_id=self.session_id,
            store=not config.disable_response_storage,
        )

    def _record(self, item: InputItem) -> None:
        self.history.append(item)
        if self.rollout is not None:
            self.rollout.record_item(item)

    # ------------------------------------------------------------------ events and approvals

    def _emit(self, sub_id: str, msg: ev.EventMsg) -> None:
        unread = type(msg) in self.unread
        if unread and self.observers is None:
            return
        event = ev.Event(sub_id, msg)
        if self.observers is not None:
            # Before the face: a warning about an observer then precedes the event it broke on,
            # so a face that stops reading at the turn's end (exec) still shows it.
            self.observers.deliver(event)
        if not unread:
            self._events.put_nowait(event)

    def _warn(self, message: str) -> None:
        self._emit("0", ev.BackgroundEvent(f"warning: {message}"))

    async def ask(self, sub_id: str, make_event: Any) -> ev.ApprovalAnswer:
        request_id = f"approval-{next(self._ids)}"
        future: asyncio.Future[ev.ApprovalAnswer] = asyncio.get_running_loop().create_future()
        self._approvals[request_id] = future
        self._emit(sub_id, make_event(request_id))
        return await future

    def confined_spawner(self) -> ConfinedSpawner | None:
        """The backend's fork server for this session, started when a turn under a confining
        policy begins, or on first use (None: not offered)."""
        backend = self.services.sandbox_backend
        if self._spawner is None and not self._spawner_failed and backend is not None:
            make = getattr(backend, "fork_server", None)
            if make is not None and self.config.sandbox_fork_server:
                try:
                    self._spawner = make()
                except Exception as exc:  # the per-command helper still works; say why we slowed down
                    self._spawner_failed = True
                    self._emit("0", ev.BackgroundEvent(f"warning: sandbox fork server unavailable ({exc})"))
        return self._spawner

    def _cancel_pending_approvals(self) -> None:
        for future in self._approvals.values():
            future.cancel()
        self._approvals.clear()


_BUG_HINT = "this is a bug in codex or a plugin: run with CODEX_DEBUG=1 for the traceback, and report it"


def _attached_note(images: list[ImageInput]) -> str:
    names = ", ".join(image.name for image in images)
    return f"Images the tools attached (view_image), in call order: {names}"


def _debug_traceback() -> None:
    import os

    if os.environ.get("CODEX_DEBUG", "") not in ("", "0"):
        import traceback

        traceback.print_exc()


def _copy_usage(usage: TokenUsage) -> TokenUsage:
    return TokenUsage(
        usage.input_tokens,
        usage.cached_input_tokens,
        usage.output_tokens,
        usage.reasoning_output_tokens,
        usage.total_tokens,
    )


@dataclass
class CallContext:
    """The ToolContext of one tool call: the session's services, scoped to the call."""

    session: Session
    sub_id: str
    call_id: str
    # The call's time limit (set by the dispatch); its clock stops while a person is asked.
    time_limit: asyncio.Timeout | None = None

    def bind_time_limit(self, scope: asyncio.Timeout) -> None:
        self.time_limit = scope

    async def _asking(self, make_event: Any) -> ev.ApprovalAnswer:
        scope = self.time_limit
        deadline = scope.when() if scope is not None else None
        if scope is None or deadline is None:
            return await self.session.ask(self.sub_id, make_event)
        loop = asyncio.get_running_loop()
        remaining = deadline - loop.time()
        scope.reschedule(None)
        try:
            return await self.session.ask(self.sub_id, make_event)
        finally:
            scope.reschedule(loop.time() + max(0.0, remaining))

    @property
    def cwd(self) -> Path:
        return self.session.cwd

    @property
    def config(self) -> Config:
        return self.session.config

    @property
    def approval_policy(self) -> ApprovalPolicy:
        return self.session.approval_policy

    @property
    def sandbox_policy(self) -> SandboxPolicy:
        return self.session.services.sandbox_policy

    @property
    def sandbox_backend(self) -> SandboxBackend | None:
        return self.session.services.sandbox_backend

    @property
    def approved_commands(self) -> set[tuple[str, ...]]:
        return self.session.approved_commands

    @property
    def approved_prefixes(self) -> list[tuple[str, ...]]:
        return self.session.approved_prefixes

    def emit(self, msg: ev.EventMsg) -> None:
        self.session._emit(self.sub_id, msg)

    def confined_spawner(self) -> ConfinedSpawner | None:
        return self.session.confined_spawner()

    async def run_command(
        self, argv: Sequence[str], *, cwd: str | Path | None = None, timeout: float | None = None
    ) -> CommandResult:
        from codex.tools.shell import run_tool_command

        return await run_tool_command(self, argv, cwd, timeout)

    async def ask_exec_approval(
        self, command: list[str], cwd: Path, reason: str, *, sandboxed: bool | None = None
    ) -> ev.ApprovalAnswer:
        return await self._asking(
            lambda rid: ev.ExecApprovalRequest(rid, self.call_id, command, str(cwd), reason, sandboxed)
        )

    async def ask_patch_approval(
        self, changes: dict[str, dict[str, Any]], diff: str, reason: str
    ) -> ev.ApprovalAnswer:
        return await self._asking(
            lambda rid: ev.PatchApprovalRequest(rid, self.call_id, changes, diff, reason)
        )
