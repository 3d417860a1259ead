"""The terminal: scrollback above, a live area redrawn in place at the bottom.

The interactive face does not take over the screen (no alternate screen): everything finished is
printed once and stays in the terminal's own scrollback, where it can be scrolled, searched and
copied. Only the bottom rows (the running turn, the approval question, the input box) are
redrawn, by moving the cursor up over what was drawn last time and clearing to the end of the
screen. ``PlainScreen`` is the same interface for a stdout that is not a terminal: lines only,
no escape sequences, no live area.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from codex.cli.tui.text import Palette, fit, strip_ansi, visible_len

if TYPE_CHECKING:
    import asyncio

_BEGIN_SYNC = "\x1b[?2026h"  # terminals that know it paint the whole frame at once
_END_SYNC = "\x1b[?2026l"
_HIDE_CURSOR = "\x1b[?25l"
_SHOW_CURSOR = "\x1b[?25h"
_PASTE_ON = "\x1b[?2004h"
_PASTE_OFF = "\x1b[?2004l"


@dataclass
class Frame:
    """The live area: rows (each fitting the width) and where the cursor goes."""

    rows: list[str] = field(default_factory=list)
    cursor_row: int = 0
    cursor_col: int = 0


Compose = Callable[[int, int], Frame]

PROMPT = "› "
PLACEHOLDER = "Ask codex to do anything"


def prompt_row(paint: Palette, width: int, placeholder: str = PLACEHOLDER) -> str:
    """The empty input row: the prompt and a dimmed hint."""
    return paint(PROMPT, "bold", "cyan") + paint(fit(placeholder, width - visible_len(PROMPT)), "dim")


def starting_frame(paint: Palette, width: int) -> Frame:
    """What the screen shows while codex loads (the same rows the app draws in that state)."""
    status = fit(f"{paint('⠋', 'cyan')} {paint('starting codex…', 'dim')}", width)
    return Frame([status, prompt_row(paint, width)], 1, visible_len(PROMPT))


class Screen(Protocol):
    """What the app draws on: a terminal, or plain lines."""

    interactive: bool

    @property
    def width(self) -> int: ...

    def commit(self, lines: list[str]) -> None: ...

    def request_redraw(self, delay: float = 0.0) -> None: ...

    def draw(self) -> None: ...


def _write_all(fd: int, data: bytes) -> None:
    import select

    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [], 1.0)
            continue
        except InterruptedError:
            continue
        view = view[written:]


class TerminalScreen:
    """A real terminal: raw keyboard input, bracketed paste, and the live area."""

    interactive = True

    def __init__(self, in_fd: int, out_fd: int, compose: Compose) -> None:
        self.in_fd = in_fd
        self.out_fd = out_fd
        self.compose = compose
        self._saved_mode: list[Any] | None = None
        self._drawn: Frame = Frame()
        self._drawn_width = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._redraw_handle: asyncio.TimerHandle | asyncio.Handle | None = None
        self._size = self._query_size()

    @property
    def width(self) -> int:
        """Columns of the terminal."""
        return self._size[0]

    @property
    def height(self) -> int:
        """Rows of the terminal."""
        return self._size[1]

    def _query_size(self) -> tuple[int, int]:
        try:
            size = os.get_terminal_size(self.out_fd)
            return max(20, size.columns), max(5, size.lines)
        except OSError:
            return 80, 24

    def enter_raw_mode(self) -> None:
        """Keys arrive one by one (Ctrl-C as a key, not a signal); pastes come with markers.

        Called before the event loop exists, so the prompt can be drawn as early as possible;
        keys typed from here on wait in the terminal until ``start`` reads them.
        """
        import termios

        if self._saved_mode is not None:
            return
        try:
            self._saved_mode = termios.tcgetattr(self.in_fd)
            mode = termios.tcgetattr(self.in_fd)
            # Enter arrives as CR and Ctrl-J as LF (so they can differ); no echo, no line
            # editing, no signals from keys (Ctrl-C must interrupt a turn, not kill codex), no
            # XON/XOFF. Output processing stays on, so a stray "\n" from a library still returns.
            mode[0] &= ~(termios.ICRNL | termios.INLCR | termios.IGNCR | termios.IXON)
            mode[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG | termios.IEXTEN)
            mode[6][termios.VMIN] = 1
            mode[6][termios.VTIME] = 0
            # TCSANOW, not TCSAFLUSH: keys typed while codex was starting must not be lost.
            termios.tcsetattr(self.in_fd, termios.TCSANOW, mode)
        except termios.error:
            self._saved_mode = None
        self._write(_PASTE_ON)

    def start(self, loop: asyncio.AbstractEventLoop, on_input: Callable[[bytes], None]) -> None:
        """Raw mode if not yet, then read keys and follow resizes on ``loop``."""
        self.enter_raw_mode()
        self._loop = loop

        def readable() -> None:
            try:
                data = os.read(self.in_fd, 65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            on_input(data)

        loop.add_reader(self.in_fd, readable)
        try:
            loop.add_signal_handler(signal.SIGWINCH, self._resized)
        except (ValueError, RuntimeError, AttributeError):
            pass

    def stop(self) -> None:
        """Erase the live area and give the terminal back as it was."""
        if self._loop is not None:
            self._loop.remove_reader(self.in_fd)
            try:
                self._loop.remove_signal_handler(signal.SIGWINCH)
            except (ValueError, RuntimeError, AttributeError):
                pass
        if self._redraw_handle is not None:
            self._redraw_handle.cancel()
            self._redraw_handle = None
        self._write(self._erase() + _PASTE_OFF + _SHOW_CURSOR)
        self._drawn = Frame()
        self.restore_mode()

    def suspend(self) -> None:
        """Ctrl-Z: give the terminal back to the shell, stop, and take it again after ``fg``."""
        self._write(self._erase() + _PASTE_OFF + _SHOW_CURSOR)
        self._drawn = Frame()
        self.restore_mode()
        self._saved_mode = None
        os.kill(os.getpid(), signal.SIGTSTP)  # returns once the shell continues us
        self.enter_raw_mode()
        self._size = self._query_size()
        self.draw()

    def restore_mode(self) -> None:
        """Cooked mode again (also called on the way out after an unexpected error)."""
        if self._saved_mode is not None:
            import termios

            try:
                termios.tcsetattr(self.in_fd, termios.TCSANOW, self._saved_mode)
            except termios.error:
                pass

    def _resized(self) -> None:
        self.draw()

    @staticmethod
    def _rewrapped(frame: Frame, width: int) -> Frame:
        rows_above = sum(max(1, -(-visible_len(row) // width)) for row in frame.rows[: frame.cursor_row])
        rows_above += frame.cursor_col // width
        return Frame([""] * (rows_above + 1), rows_above, 0)

    def _write(self, text: str) -> None:
        _write_all(self.out_fd, text.encode("utf-8", "replace"))

    def _erase(self) -> str:
        up = self._drawn.cursor_row
        return "\r" + (f"\x1b[{up}A" if up else "") + "\x1b[J"

    def commit(self, lines: list[str]) -> None:
        """Print ``lines`` above the live area, into the scrollback for good."""
        self.draw(lines)

    def request_redraw(self, delay: float = 0.0) -> None:
        """Redraw soon; many requests within ``delay`` seconds become one redraw."""
        if self._loop is None or self._redraw_handle is not None:
            return
        if delay <= 0:
            self._redraw_handle = self._loop.call_soon(self._scheduled_draw)
        else:
            self._redraw_handle = self._loop.call_later(delay, self._scheduled_draw)

    def _scheduled_draw(self) -> None:
        self._redraw_handle = None
        self.draw()

    def draw(self, commits: list[str] | None = None) -> None:
        """Redraw the live area now (after printing ``commits`` above it)."""
        # Asked every time (one ioctl): a key can arrive before the SIGWINCH of a resize.
        self._size = self._query_size()
        width, height = self.width, self.height
        if self._drawn_width and width < self._drawn_width:
            # The terminal may have re-wrapped what we drew; count the rows it now takes.
            self._drawn = self._rewrapped(self._drawn, width)
        frame = self.compose(width, height)
        rows = frame.rows[-(height - 1) :] if len(frame.rows) >= height else frame.rows
        cursor_row = min(max(0, frame.cursor_row - (len(frame.rows) - len(rows))), max(0, len(rows) - 1))
        if not commits and rows == self._drawn.rows and cursor_row == self._drawn.cursor_row and (
            frame.cursor_col == self._drawn.cursor_col
        ):
            return
        parts = [_BEGIN_SYNC, _HIDE_CURSOR, self._erase()]
        for line in commits or ():
            parts.append(line + ("\x1b[0m" if "\x1b" in line else "") + "\r\n")
        parts.append("\r\n".join(rows))
        up = len(rows) - 1 - cursor_row
        if up > 0:
            parts.append(f"\x1b[{up}A")
        parts.append("\r")
        if frame.cursor_col:
            parts.append(f"\x1b[{frame.cursor_col}C")
        parts += [_SHOW_CURSOR, _END_SYNC]
        self._write("".join(parts))
        self._drawn = Frame(rows, cursor_row, frame.cursor_col)
        self._drawn_width = width


class PlainScreen:
    """stdout is a file or a pipe: plain lines, nothing redrawn, no escape sequences."""

    interactive = False

    def __init__(self, stream: TextIO | None = None, width: int = 80) -> None:
        self._stream = stream or sys.stdout
        self._width = width

    @property
    def width(self) -> int:
        """The width text is wrapped at (there is no terminal to ask)."""
        return self._width

    def commit(self, lines: list[str]) -> None:
        """Write the lines, escape sequences removed."""
        stream = self._stream
        text = "".join(strip_ansi(line) + "\n" for line in lines)
        stream.write(text)
        stream.flush()

    def request_redraw(self, delay: float = 0.0) -> None:
        """Nothing is redrawn on plain output."""

    def draw(self) -> None:
        """Nothing is redrawn on plain output."""
