"""The interactive face: keys and session events in, the screen out.

The app draws the prompt first and loads the engine afterwards (config, plugins and the wire
client take several hundred milliseconds to import; a person can start typing meanwhile, and a
message sent before the session is ready is delivered when it is). Everything runs on one
asyncio loop: the terminal's input is a reader callback, the session's events a task, and the
work that can block (config loading, provider start-up, git, files) runs in threads that post
their results back to the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex import __version__
from codex import events as ev
from codex.cli.tui import slash
from codex.cli.tui.approvals import (
    APPROVAL_KEYS,
    FEEDBACK,
    ApprovalRequest,
    decision_line,
    key_choice,
    plain_answer,
    request_lines,
)
from codex.cli.tui.attachments import Attachments, placeholder
from codex.cli.tui.bridges import ScreenStream, TuiProviderUI
from codex.cli.tui.editor import Completer, Editor, History, layout
from codex.cli.tui.keys import Key, KeyDecoder
from codex.cli.tui.markdown import MarkdownRenderer
from codex.cli.tui.render import (
    Transcript,
    clean_event,
    format_duration,
    header_lines,
    history_lines,
    spinner_frame,
    user_lines,
)
from codex.cli.tui.screen import (
    PLACEHOLDER,
    PROMPT,
    Frame,
    PlainScreen,
    Screen,
    TerminalScreen,
    prompt_row,
)
from codex.cli.tui.text import Palette, color_wanted, fit, visible_len, wrap, wrap_choices
from codex.errors import CodexError

if TYPE_CHECKING:
    from codex.cli.tui.command import ResumeTarget
    from codex.config.loader import LoadedConfig
    from codex.history import PromptHistory
    from codex.plugins import CodexPluginManager
    from codex.protocol import ImageInput
    from codex.rollout import SessionSummary
    from codex.session import Session

ESC_TIMEOUT = 0.05
QUIT_WINDOW_SECONDS = 2.0
NOTICE_SECONDS = 3.0
TICK_SECONDS = 0.1
STREAM_REDRAW_SECONDS = 0.03


@dataclass
class Launch:
    """How the command line started the face."""

    prompt: str | None
    resume: ResumeTarget | None
    load: Callable[[], tuple[LoadedConfig, CodexPluginManager]]
    screen: TerminalScreen | None = None  # already showing the prompt, when stdout is a terminal
    images: tuple[ImageInput, ...] = ()  # -i: they go with the first message


def run(launch: Launch) -> int:
    """Run the face to the end and return the exit status."""
    terminal = launch.screen is not None or (sys.stdin.isatty() and sys.stdout.isatty())
    app = App(launch, terminal=terminal)
    try:
        return asyncio.run(app.main())
    finally:
        app.restore_terminal()


class App:
    """One interactive run: at most one session at a time, replaced by /new, /resume, /compact."""

    def __init__(self, launch: Launch, *, terminal: bool) -> None:
        self.launch = launch
        self.terminal = terminal
        self.paint = Palette(color_wanted(terminal))
        self.screen: Screen
        if launch.screen is not None:
            launch.screen.compose = self.compose
            self.screen = launch.screen
        elif terminal:
            self.screen = TerminalScreen(sys.stdin.fileno(), sys.stdout.fileno(), self.compose)
        else:
            self.screen = PlainScreen(sys.stdout)
        self.markdown = MarkdownRenderer(self.paint.color)
        self.transcript = Transcript(self.paint, self.markdown, self.say, lambda: self.screen.width, plain=not terminal)
        self.decoder = KeyDecoder()
        self.history = History()
        self.editor = Editor(self.history, Completer(slash.COMMANDS, self._workspace_files))
        self.loaded: LoadedConfig | None = None
        self.pm: CodexPluginManager | None = None
        self.prompt_history: PromptHistory | None = None
        self.session: Session | None = None
        self.info: ev.SessionConfigured | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.exit_event: asyncio.Event | None = None
        self.exit_code = 0
        self.starting = True
        self.turn_active = False
        self.turn_started = 0.0
        self.interrupting = False
        self.approvals: deque[ApprovalRequest] = deque()
        self.pending_inputs: list[tuple[str, tuple[ImageInput, ...]]] = []
        # A /new or /resume is replacing the session: what is typed meanwhile waits for the new one.
        self.switching = False
        self.attachments = Attachments(launch.images)
        self.last_ctrl_c = 0.0
        # Work of a slash command outside the session's turn (/review) that Ctrl-C or Esc stops.
        self.stoppable: asyncio.Task[Any] | None = None
        self.notice: tuple[str, float] | None = None
        self.progress_row: str | None = None
        self.confirm: tuple[str, bool, concurrent.futures.Future[bool]] | None = None
        self.picker: tuple[list[SessionSummary], Editor] | None = None
        self.overrides: dict[str, str] = {}
        self._pump_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._tick_handle: asyncio.TimerHandle | None = None
        self._esc_handle: asyncio.TimerHandle | None = None
        self._files: list[str] | None = None
        self._files_loading = False
        self._saved_stderr: Any = None
        self._plain_lines: deque[str] = deque()
        self._plain_eof = False
        self._echoing = False
        self._aborted_at_approval = False  # the answer's line already says the turn was aborted
        self._quiet_turn: str | None = None  # the turn whose abort notice would repeat that line
        self._preloaded = False  # the first turn's imports are loaded once per run

    # ================================================================== lifecycle

    async def main(self) -> int:
        """Draw the prompt, load the engine, open the session, serve until the person leaves."""
        self.loop = asyncio.get_running_loop()
        self.exit_event = asyncio.Event()
        if isinstance(self.screen, TerminalScreen):
            self.screen.start(self.loop, self.on_bytes)
            self._capture_stderr()
        else:
            self._start_plain_reader()
        self._install_signals()
        self.screen.draw()
        self._tick()
        try:
            await self._load()
            target = self.launch.resume
            if target is not None and target.pick:
                await self.pick_session()
            else:
                await self._open(self._resume_path(target))
                if self.launch.prompt:
                    self.send_text(self.launch.prompt)
                elif self.launch.images:
                    labels = " ".join(placeholder(image) for image in self.launch.images)
                    self.say([self.paint(f"{labels} will go with your first message", "dim")])
            await self.exit_event.wait()
        finally:
            await self._close_session()
            self._stop_screen()
        if self.info is not None:
            print(f"To continue this session, run: codex resume {self.info.session_id}", flush=True)
        return self.exit_code

    async def _load(self) -> None:
        """Config, plugins, provider start-up and the engine's imports, off the loop thread."""
        ui = TuiProviderUI(self)

        def load() -> tuple[LoadedConfig, CodexPluginManager, list[str]]:
            loaded, pm = self.launch.load()
            from codex.engine import open_session, prepare_provider  # noqa: F401  (imported here, not on the loop)
            from codex.history import PromptHistory
            from codex.services import resolve_services

            prepare_provider(pm, loaded, ui)
            resolve_services(pm, loaded)  # warm imports and sandbox probes so opening is quick
            settings = loaded.config.history
            self.prompt_history = PromptHistory.for_home(loaded.codex_home, settings.persistence, settings.max_bytes)
            entries = self.prompt_history.load()
            if self.paint.color:
                self.markdown.render("warm *up*", 40)  # import rich now rather than at the first answer
            return loaded, pm, entries

        loaded, self.pm, entries = await asyncio.to_thread(load)
        self.loaded = loaded
        if self.terminal:
            from codex.cli.tui.links import file_linker

            self.markdown.linker = file_linker(loaded.config.file_opener, loaded.cwd)
        self.history.prepend(entries)

    def _resume_path(self, target: ResumeTarget | None) -> Path | None:
        if target is None:
            return None
        from codex.rollout import find_session

        assert self.loaded is not None
        return find_session(self.loaded.codex_home, None if target.last else target.session_id)

    async def _open(self, resume: Path | None) -> None:
        from codex.engine import open_session

        assert self.loaded is not None and self.pm is not None
        self.starting = True
        self.screen.request_redraw()
        session = await open_session(self.pm, self.loaded, resume=resume)
        self.session = session
        for key, value in self.overrides.items():
            session.submit(ev.OverrideTurnContext(**{key: value}))
        self._pump_task = asyncio.create_task(self._pump(session))

    async def _pump(self, session: Session) -> None:
        while True:
            event = await session.next_event()
            try:
                self.on_event(event)
            except Exception as exc:  # a rendering bug must not take the session down with it
                self.say([self.paint(f"codex: could not show a {event.msg.type} event: {exc!r}", "red")])
            if isinstance(event.msg, ev.ShutdownComplete):
                return

    async def _close_session(self) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        await session.close()
        if self._pump_task is not None:
            try:
                await asyncio.wait_for(self._pump_task, 5)
            except (TimeoutError, asyncio.CancelledError):
                self._pump_task.cancel()
            self._pump_task = None
        self.turn_active = False
        self.approvals.clear()

    def request_exit(self, code: int = 0) -> None:
        """Leave after closing the session."""
        self.exit_code = code
        if self.exit_event is not None:
            self.exit_event.set()

    def _stop_screen(self) -> None:
        # asyncio.run turns the loop again while it shuts down: a spinner tick due then would
        # draw the live area once more, below the last words (an error, the resume hint).
        for handle in (self._tick_handle, self._esc_handle):
            if handle is not None:
                handle.cancel()
        self._tick_handle = self._esc_handle = None
        if isinstance(self.screen, TerminalScreen):
            self.screen.stop()
        self._release_stderr()

    def restore_terminal(self) -> None:
        """Cooked mode again whatever happened (also after an unexpected exception)."""
        if isinstance(self.screen, TerminalScreen):
            self.screen.restore_mode()
        self._release_stderr()

    def _install_signals(self) -> None:
        assert self.loop is not None
        for number, handler in (
            (signal.SIGINT, lambda: self._action("interrupt")),
            (signal.SIGTERM, lambda: self.request_exit(143)),
            (signal.SIGHUP, lambda: self.request_exit(129)),
        ):
            try:
                self.loop.add_signal_handler(number, handler)
            except (ValueError, RuntimeError, AttributeError):
                pass

    def _capture_stderr(self) -> None:
        """Library warnings on stderr would tear the live area: show them as lines instead."""
        self._saved_stderr = sys.stderr
        sys.stderr = ScreenStream(self)

    def _release_stderr(self) -> None:
        if self._saved_stderr is not None:
            sys.stderr = self._saved_stderr
            self._saved_stderr = None

    def spawn(self, coroutine: Any) -> None:
        """Run a coroutine as a task whose failure is shown, not lost."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                error = finished.exception()
                self.say([self.paint(f"error: {error}", "red")])

        task.add_done_callback(done)

    # ================================================================== output

    def say(self, lines: list[str]) -> None:
        """Commit lines to the scrollback."""
        self.screen.commit(lines)

    def _notify(self, text: str) -> None:
        self.notice = (text, time.monotonic() + NOTICE_SECONDS)
        self.screen.request_redraw()

    def _tick(self) -> None:
        """Keep spinners and clocks moving while something runs."""
        self._tick_handle = None
        busy = self.starting or self.turn_active or self.transcript.commands or self.notice is not None
        if self.notice is not None and self.notice[1] < time.monotonic():
            self.notice = None
        if not busy or self.loop is None:
            return
        self.screen.request_redraw()
        self._tick_handle = self.loop.call_later(TICK_SECONDS, self._tick)

    def _ensure_ticking(self) -> None:
        if self._tick_handle is None and self.loop is not None:
            self._tick()

    def compose(self, width: int, height: int) -> Frame:
        """The live area for this moment (called by the screen)."""
        now = time.monotonic()
        paint = self.paint
        rows = self.transcript.live_rows(now, refresh=not self._echoing)
        if self.progress_row:
            rows.append(fit(self.progress_row, width))
        if self.confirm is not None:
            question, default, _ = self.confirm
            rows.append(fit(paint(question, "bold"), width))
            keys = fit(paint("y yes · n no · Enter " + ("yes" if default else "no"), "dim"), width)
            rows.append(keys)
            return Frame(rows, len(rows) - 1, visible_len(keys))
        approval = self.approvals[0] if self.approvals else None
        if approval is not None and approval.feedback is None:
            asked = wrap(approval.question, max(1, width - 2))
            rows.append(paint("▲ ", "yellow") + paint(asked[0], "bold"))
            rows += ["  " + paint(row, "bold") for row in asked[1:]]
            # Every answer stays readable on a narrow terminal: the keys wrap between choices.
            choices = [paint(row, "cyan") for row in wrap_choices(APPROVAL_KEYS, width)]
            rows += choices
            return Frame(rows, len(rows) - 1, visible_len(choices[-1]))
        for text, _images in self.pending_inputs:  # echoed for real under the session header, once it is there
            rows.append(fit(paint("› ", "bold", "cyan") + paint(text.splitlines()[0] if text else "", "dim")
                            + paint("  (sent when the session is ready)", "dim"), width))
        status = self._status_row(now, width)
        if status:
            rows.append(status)
        editor, prompt = self.editor, paint(PROMPT, "bold", "cyan")
        prompt_width = visible_len(PROMPT)
        if approval is not None and approval.feedback is not None:
            rows.append(fit(paint("Tell codex what to do instead (Enter sends, empty just says no):", "yellow"), width))
            editor = approval.feedback
        elif self.picker is not None:
            rows.append(fit(paint("Resume which session? Type its number and Enter (Esc cancels).", "bold"), width))
            editor = self.picker[1]
            prompt, prompt_width = paint("# ", "bold", "cyan"), 2
        shape = layout(editor.buffer.text, editor.buffer.cursor, width, prompt, prompt_width)
        cursor_row = len(rows) + shape.cursor_row
        rows += shape.rows
        if not editor.buffer.text and editor is self.editor:
            placeholder = PLACEHOLDER if not self.turn_active else "Type to queue a message"
            rows[cursor_row] = prompt_row(paint, width, placeholder)
        suggestions = editor.suggestions
        if suggestions is not None and suggestions.items:
            for number, (name, description) in enumerate(suggestions.items[:8]):
                text = f"  {name:<14} {description}" if description else f"  {name}"
                rows.append(fit(paint(text, "reverse") if number == 0 else paint(text, "dim"), width))
        elif editor is self.editor and not self.turn_active and not self.starting:
            rows.append(fit(paint("  ⏎ send · ^J newline · /help commands · @ files · ^C quit"
                                  + self._context_left(), "dim"), width))
        return Frame(rows, cursor_row, shape.cursor_col)

    def _status_row(self, now: float, width: int) -> str | None:
        paint = self.paint
        if self.notice is not None and self.notice[1] >= now:
            return fit(paint(self.notice[0], "yellow"), width)
        if self.starting:
            return fit(f"{paint(spinner_frame(now), 'cyan')} {paint('starting codex…', 'dim')}", width)
        if self.turn_active:
            elapsed = format_duration(now - self.turn_started) if now - self.turn_started >= 1 else "0s"
            what = "interrupting…" if self.interrupting else "Working"
            return fit(f"{paint(spinner_frame(now), 'cyan')} {paint(what, 'bold')} "
                       f"{paint(f'({elapsed} · Ctrl-C to interrupt){self._context_left()}', 'dim')}", width)
        return None

    def _context_left(self) -> str:
        """`` · 72% context left`` once the window and its use are known, else nothing."""
        count = self.transcript.context
        left = count.percent_left() if count is not None else None
        return f" · {left}% context left" if left is not None else ""

    # ================================================================== session events

    def on_event(self, event: ev.Event) -> None:
        """Show one event and track the turn."""
        msg = event.msg if isinstance(event.msg, ev.SessionConfigured) else clean_event(event.msg)
        if isinstance(msg, ev.BackgroundEvent) and event.id == self._quiet_turn:
            self._quiet_turn = None  # the reason the engine gives for an abort chosen here
            return
        if isinstance(msg, ev.SessionConfigured):
            self._configured(msg)
        elif isinstance(msg, ev.TaskStarted):
            self.turn_active = True
            self.turn_started = time.monotonic()
            self._ensure_ticking()
        elif isinstance(msg, ev.ExecApprovalRequest | ev.PatchApprovalRequest):
            self.transcript.finish_message()
            self.say(request_lines(msg, self.paint, self.screen.width, plain=not self.terminal))
            self.approvals.append(ApprovalRequest(msg))
            self._plain_next()
        elif isinstance(msg, ev.TaskComplete | ev.TurnAborted | ev.Error):
            self.turn_active = False
            self.interrupting = False
            self.approvals.clear()  # the engine cancelled whatever was still asked
            if isinstance(msg, ev.TurnAborted) and msg.reason == "aborted" and self._aborted_at_approval:
                # The answer's line ("aborted the turn instead of ...") said it already; the
                # turn's end and the reason the engine was given would say it twice more.
                self.transcript.end_turn()
                self._quiet_turn = event.id
            else:
                self.transcript.handle(msg)
            self._aborted_at_approval = False
            self._plain_next()
        elif isinstance(msg, ev.ShutdownComplete):
            pass
        else:
            self.transcript.handle(msg)
            if isinstance(msg, ev.ExecCommandBegin):
                self._ensure_ticking()
        self.screen.request_redraw(STREAM_REDRAW_SECONDS)

    def _configured(self, msg: ev.SessionConfigured) -> None:
        self.info = msg
        self.starting = False
        width = self.screen.width
        lines = header_lines(msg, self.paint, __version__, width)
        if msg.history:
            lines += history_lines(msg.history, self.paint, lambda text: self.markdown.render(text, width)
                                   if self.terminal else text.splitlines(), width)
            lines.append(self.paint("── resumed ──", "dim"))
        self.say(lines)
        if not self._preloaded and self.session is not None:
            # Started after the header is on the screen, so it never delays the session
            # being shown ready; the person's typing gives it the time it needs.
            from codex.cli.tui.preload import start_preload

            self._preloaded = True
            start_preload(self.session.services)
        self._send_pending()
        self._plain_next()

    def _send_pending(self) -> None:
        """Send what was typed while no session could take it, once one can."""
        if self.session is None or self.info is None or self.switching:
            return
        pending, self.pending_inputs = self.pending_inputs, []
        for text, images in pending:
            self.say(["", *self._prompt_lines(text, images, self.screen.width)])
            self._submit(text, images)

    def _spawn_switch(self, switch: Any) -> None:
        """Run ``switch`` (a coroutine that may replace the session) with typed input held from
        now, not from when its task first runs: a line typed right after the command (in the
        same read from the terminal) must not reach the old session."""
        self.switching = True
        self.spawn(self._while_switching(switch))

    async def _while_switching(self, switch: Any) -> None:
        try:
            await switch
        finally:
            self.switching = False
            self._send_pending()

    # ================================================================== input from the terminal

    def on_bytes(self, data: bytes) -> None:
        """Bytes from the terminal (reader callback)."""
        if not data:
            self.request_exit()  # the terminal went away
            return
        if self._esc_handle is not None:
            self._esc_handle.cancel()
            self._esc_handle = None
        for key in self.decoder.feed(data):
            self.on_key(key)
        if self.decoder.waiting and self.loop is not None:
            self._esc_handle = self.loop.call_later(ESC_TIMEOUT, self._flush_escape)
        self._echoing = True
        try:
            self.screen.draw()
        finally:
            self._echoing = False

    def _flush_escape(self) -> None:
        self._esc_handle = None
        for key in self.decoder.flush():
            self.on_key(key)
        self.screen.draw()

    def on_key(self, key: Key) -> None:
        """Route a key to whatever is asking: a provider question, an approval, a picker, the input."""
        if key.name == "ctrl-z" and isinstance(self.screen, TerminalScreen):
            self.screen.suspend()
        elif self.confirm is not None:
            self._confirm_key(key)
        elif self.approvals:
            self._approval_key(key)
        elif self.picker is not None:
            self._picker_key(key)
        else:
            if key.name == "paste":
                key = self._paste(key)
            action = self.editor.handle(key)
            if action is not None:
                self._action(action)

    def _paste(self, key: Key) -> Key:
        """A pasted path of an image file becomes an ``[image: name]`` attachment."""
        from codex.images import ImageError

        try:
            return Key("paste", self.attachments.paste(key.text, self.cwd()))
        except ImageError as exc:
            self.say([self.paint(f"not attached: {exc}", "yellow")])
            return key

    def _action(self, action: str) -> None:
        if action == "submit":
            text = self.editor.take()
            if text.strip():
                self._entered(text)
        elif action == "interrupt":
            self._ctrl_c()
        elif action == "eof":
            self.request_exit()
        elif action == "esc":
            if self.turn_active and not self.interrupting:
                self._interrupt()
            elif self.stoppable is not None:
                self.stoppable.cancel()
        elif action == "redraw" and isinstance(self.screen, TerminalScreen):
            self.screen.commit([])
        self.screen.request_redraw()

    def _ctrl_c(self) -> None:
        if self.confirm is not None:
            self._answer_confirm(False)
        elif self.approvals:
            self._answer(ev.ReviewDecision.ABORT)
        elif self.picker is not None:
            self._cancel_picker()
        elif self.turn_active:
            self._interrupt()
        elif self.stoppable is not None:
            self.stoppable.cancel()
        elif self.editor.text:
            self.editor.take()
        elif time.monotonic() - self.last_ctrl_c < QUIT_WINDOW_SECONDS:
            self.request_exit()
        else:
            self.last_ctrl_c = time.monotonic()
            self._notify("Press Ctrl-C again to quit")
            self._ensure_ticking()

    def _interrupt(self) -> None:
        if self.session is not None:
            self.interrupting = True
            self.session.submit(ev.Interrupt())

    def _entered(self, text: str) -> None:
        command = slash.parse(text)
        if command is not None:
            self.say(["", self.paint(text.strip(), "bold", "cyan")])
            if command[0] in slash.SWITCHES_SESSION:
                self._spawn_switch(slash.run(self, *command))
            else:
                self.spawn(slash.run(self, *command))
            return
        self.send_text(text)

    def send_text(self, text: str) -> None:
        """Send a message to the model (or keep it until the session is ready).

        A message kept for later is shown in the live area and echoed to the scrollback only
        after the session header, so the transcript reads in order.
        """
        self.history.add(text)
        self._remember(text)
        images = self.attachments.take(text)
        if self.session is None or self.info is None or self.switching:
            self.pending_inputs.append((text, images))
            self.screen.request_redraw()
            return
        self.say(["", *self._prompt_lines(text, images, self.screen.width)])
        self._submit(text, images)

    def _prompt_lines(self, text: str, images: tuple[ImageInput, ...], width: int) -> list[str]:
        """A message as the scrollback shows it: its lines, then images its text does not name."""
        lines = user_lines(text, self.paint, width)
        unnamed = [placeholder(image) for image in images if placeholder(image) not in text]
        return lines + ["  " + self.paint(shown, "dim") for shown in unnamed]

    def _submit(self, text: str, images: tuple[ImageInput, ...] = ()) -> None:
        assert self.session is not None
        self.session.submit(ev.UserInput(text, images=images))
        if not self.turn_active:
            self.turn_active = True  # TaskStarted follows; show "Working" right away
            self.turn_started = time.monotonic()
            self._ensure_ticking()

    def _remember(self, text: str) -> None:
        history = self.prompt_history
        if history is None or self.loop is None:
            return
        session_id = self.info.session_id if self.info else ""

        def write() -> None:
            try:
                history.append(session_id, text)
            except OSError as exc:
                message = f"could not save the prompt history: {exc}"
                self.post(lambda: self.say([self.paint(message, "yellow")]))

        self.loop.run_in_executor(None, write)

    def post(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the loop thread (from any thread)."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(callback)

    # ================================================================== approvals

    def _approval_key(self, key: Key) -> None:
        request = self.approvals[0]
        if request.feedback is not None:
            action = request.feedback.handle(key)
            if action == "submit":
                text = request.feedback.take().strip()
                self._answer(ev.ReviewDecision.DENIED, text or None)
            elif action == "interrupt":
                self._answer(ev.ReviewDecision.ABORT)
            elif action == "esc":
                request.feedback = None
            return
        choice = key_choice(key)
        if choice == FEEDBACK:
            request.feedback = Editor()
        elif isinstance(choice, ev.ReviewDecision):
            self._answer(choice)

    def _answer(self, decision: ev.ReviewDecision, feedback: str | None = None) -> None:
        request = self.approvals.popleft()
        self._aborted_at_approval = decision is ev.ReviewDecision.ABORT
        if self.session is not None:
            self.session.submit(ev.ApprovalAnswer(request.msg.request_id, decision, feedback))
        self.say([decision_line(request, decision, feedback, self.paint)])
        self._plain_next()

    # ================================================================== provider start-up questions

    def ask_confirm(self, question: str, default: bool, answer: concurrent.futures.Future[bool]) -> None:
        """Show a yes/no question from a provider's start-up (on the loop thread)."""
        self.confirm = (question, default, answer)
        if not self.terminal:
            self.say([f"{question} [{'Y/n' if default else 'y/N'}]"])
            self._plain_next()
        self.screen.request_redraw()

    def _confirm_key(self, key: Key) -> None:
        assert self.confirm is not None
        choice = key.text.lower() if key.name == "char" else key.name
        if choice == "y":
            self._answer_confirm(True)
        elif choice in ("n", "esc", "ctrl-c"):
            self._answer_confirm(False)
        elif choice == "enter":
            self._answer_confirm(self.confirm[1])

    def _answer_confirm(self, value: bool) -> None:
        assert self.confirm is not None
        question, _, future = self.confirm
        self.confirm = None
        self.say([f"{question} {self.paint('yes' if value else 'no', 'bold')}"])
        if not future.done():
            future.set_result(value)

    # ================================================================== slash command support

    def current_model(self) -> str:
        """The model the next turn uses."""
        if "model" in self.overrides:
            return self.overrides["model"]
        if self.info is not None:
            return self.info.model
        return self.loaded.config.model if self.loaded else "?"

    def current_approval_policy(self) -> str:
        """The approval policy in force."""
        if "approval_policy" in self.overrides:
            return self.overrides["approval_policy"]
        if self.info is not None:
            return self.info.approval_policy
        return self.loaded.config.approval_policy if self.loaded else "?"

    def approval_policy_names(self) -> list[str]:
        """Policies /approvals can switch to: every registered one, plugins' included."""
        if self.session is not None:
            return sorted(self.session.services.approval_policies)
        from codex.approval.policy import builtin_policies

        return list(builtin_policies())

    def override(self, **settings: str) -> None:
        """Change model or approval policy for the next turns (kept across /new and /resume)."""
        self.overrides.update(settings)
        if self.session is not None:
            self.session.submit(ev.OverrideTurnContext(**settings))

    def cwd(self) -> Path:
        """The session's working directory."""
        return self.loaded.cwd if self.loaded else Path.cwd()


    def refuse_while_busy(self, name: str) -> bool:
        """True (and say why) when a turn runs or the session is not ready."""
        if self.turn_active or self.session is None:
            self.say([self.paint(f"{name} has to wait for the running turn; press Ctrl-C to interrupt it", "yellow")])
            return True
        return False

    async def switch_session(self, resume: Path | None) -> None:
        """Close the current session and open a new one (or a recorded one)."""
        self.starting = True
        self._ensure_ticking()
        await self._close_session()
        self.info = None
        self.transcript.total = type(self.transcript.total)()
        await self._open(resume)

    async def resume_by_id(self, session_id: str) -> None:
        """``/resume ID``."""
        from codex.rollout import find_session

        assert self.loaded is not None
        try:
            path = find_session(self.loaded.codex_home, session_id)
        except CodexError as exc:
            self.say([self.paint(str(exc), "red")])
            return
        await self.switch_session(path)

    async def pick_session(self) -> None:
        """List recent sessions and let the person choose one by number."""
        from codex.rollout import list_sessions

        assert self.loaded is not None
        sessions = await asyncio.to_thread(list_sessions, self.loaded.codex_home)
        current = self.info.session_id if self.info else None
        sessions = [s for s in sessions if s.session_id != current]
        if not sessions:
            self.say([self.paint("no recorded sessions to resume", "yellow")])
            if self.session is None:
                await self._open(None)
            return
        width = self.screen.width
        lines = [self.paint("Recorded sessions", "bold")]
        for number, summary in enumerate(sessions, 1):
            when = summary.timestamp.replace("T", " ").rstrip("Z")
            lines.append(fit(f"  {number:>2}. {self.paint(when, 'dim')}  {summary.preview or '(no message)'}", width))
            lines.append(fit(self.paint(f"      {summary.session_id}  {summary.cwd}", "dim"), width))
        self.say(lines)
        self.starting = False
        self.picker = (sessions, Editor())
        self.screen.request_redraw()
        self._plain_next()

    def _picker_key(self, key: Key) -> None:
        assert self.picker is not None
        editor = self.picker[1]
        action = editor.handle(key)
        if action in ("esc", "interrupt"):
            self._cancel_picker()
        elif action == "submit":
            self._pick(editor.take())

    def _pick(self, text: str) -> None:
        assert self.picker is not None
        sessions = self.picker[0]
        choice = text.strip()
        if not choice.isdigit() or not 1 <= int(choice) <= len(sessions):
            self.say([self.paint(f"type a number from 1 to {len(sessions)}", "yellow")])
            self._plain_next()
            return
        self.picker = None
        self.starting = True
        self._spawn_switch(self.switch_session(sessions[int(choice) - 1].path))

    def _cancel_picker(self) -> None:
        self.picker = None
        self.say([self.paint("resume cancelled", "dim")])
        if self.session is None:
            self.spawn(self._open(None))

    def start_compact(self) -> None:
        """Ask the engine to compact (the Compact op); it says so with a ContextCompacted event."""
        assert self.session is not None
        self.say([self.paint("• compacting: asking codex for a summary of the conversation…", "dim")])
        self.session.submit(ev.Compact())
        self.turn_active = True
        self.turn_started = time.monotonic()
        self._ensure_ticking()

    # ================================================================== @file completion

    def _workspace_files(self) -> list[str]:
        if self._files is None and not self._files_loading and self.loop is not None:
            self._files_loading = True
            cwd = self.cwd()

            def collect() -> None:
                from codex.cli.tui.workspace import list_workspace_files

                files = list_workspace_files(cwd)

                def store() -> None:
                    self._files = files
                    self._files_loading = False
                    if self.editor.suggestions is not None:
                        self.editor.suggestions = self.editor.completer.suggest(  # type: ignore[union-attr]
                            self.editor.buffer.text, self.editor.buffer.cursor)
                    self.screen.request_redraw()

                self.post(store)

            threading.Thread(target=collect, daemon=True, name="codex-files").start()
        return self._files or []

    # ================================================================== plain (non-terminal) input

    def _start_plain_reader(self) -> None:
        """Read stdin line by line in a thread; lines are used when the app wants input."""

        def reader() -> None:
            stream = sys.stdin
            while True:
                try:
                    line = stream.readline() if stream is not None else ""
                except (OSError, ValueError):
                    line = ""
                if not line:
                    self.post(self._plain_closed)
                    return
                text = line.rstrip("\n")
                self.post(lambda text=text: self._plain_line(text))  # type: ignore[misc]

        threading.Thread(target=reader, daemon=True, name="codex-stdin").start()

    def _plain_line(self, text: str) -> None:
        self._plain_lines.append(text)
        self._plain_next()

    def _plain_closed(self) -> None:
        self._plain_eof = True
        self._plain_next()

    def _plain_next(self) -> None:
        """Use the next stdin line if something is waiting for one (plain mode only)."""
        if self.terminal:
            return
        while self._plain_lines:
            if self.confirm is not None:
                answer = self._plain_lines.popleft().strip().lower()
                self._answer_confirm(answer in ("y", "yes") if answer else self.confirm[1])
            elif self.approvals:
                self._answer(*plain_answer(self._plain_lines.popleft()))
            elif self.picker is not None:
                self._pick(self._plain_lines.popleft())
            elif not self.turn_active and self.info is not None:
                text = self._plain_lines.popleft()
                if text.strip():
                    self._entered(text)
            else:
                return
        if self._plain_eof and not self.turn_active and not self.approvals and self.session is not None and (
            self.info is not None
        ):
            self.request_exit()
