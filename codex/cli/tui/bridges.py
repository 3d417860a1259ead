"""Bridges into the loop thread: provider start-up hooks (--oss) and stray writes to stderr.

Start-up hooks run in a worker thread and libraries may print to stderr at any time; neither
may write to the terminal directly while the live area is drawn, so both hand their output to
the app's loop, which shows it as lines in the scrollback (or a progress row, or a question).
"""

from __future__ import annotations

import concurrent.futures
import io
import threading
import time
from typing import TYPE_CHECKING

from codex.cli.tui.text import sanitize

if TYPE_CHECKING:
    from codex.cli.tui.app import App


class ScreenStream(io.TextIOBase):
    """sys.stderr while the terminal is in raw mode: complete lines become dim scrollback lines."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._partial = ""

    def write(self, text: str) -> int:
        self._partial += text
        if "\n" in self._partial:
            *lines, self._partial = self._partial.split("\n")
            shown = [self.app.paint(sanitize(line), "yellow") for line in lines if line.strip()]
            if shown:
                if threading.current_thread() is threading.main_thread():
                    self.app.say(shown)
                else:
                    self.app.post(lambda: self.app.say(shown))
        return len(text)

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


class TuiProviderUI:
    """``ProviderUI`` for start-up hooks (``--oss``): messages, questions and a progress row.

    The hooks run in a worker thread, so every method hands its work to the loop thread; a
    question blocks the worker until the person answers.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self.interactive = True
        self.assume_yes = False

    def info(self, message: str) -> None:
        """A line in the scrollback."""
        self.app.post(lambda: self.app.say([message]))

    def warn(self, message: str) -> None:
        """A warning line."""
        self.app.post(lambda: self.app.say([self.app.paint(f"warning: {message}", "yellow")]))

    def confirm(self, question: str, default: bool = False) -> bool:
        """Ask yes/no and wait for the answer."""
        answer: concurrent.futures.Future[bool] = concurrent.futures.Future()
        self.app.post(lambda: self.app.ask_confirm(question, default, answer))
        return answer.result()

    def progress(self, description: str) -> TuiProgress:
        """A progress row in the live area."""
        return TuiProgress(self.app, description)


class TuiProgress:
    def __init__(self, app: App, description: str) -> None:
        self.app = app
        self.description = description
        self.started = time.monotonic()
        self.last_status = ""

    def update(self, completed: int, total: int | None, status: str = "") -> None:
        from codex.ui import format_progress

        row = format_progress(self.description, completed, total, time.monotonic() - self.started, status)
        app = self.app
        if not app.terminal and status and status != self.last_status:
            app.post(lambda: app.say([f"{self.description}: {status}"]))
        self.last_status = status or self.last_status

        def show() -> None:
            app.progress_row = row
            app.screen.request_redraw()

        app.post(show)

    def close(self, final: str = "") -> None:
        app = self.app

        def done() -> None:
            app.progress_row = None
            if final:
                app.say([final])
            app.screen.request_redraw()

        app.post(done)
