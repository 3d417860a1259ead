"""What a plugin may ask of the face during provider startup: messages, questions, progress.

The core passes a ``ProviderUI`` to ``codex_provider_startup``; each face supplies its own
(plain stderr lines for exec, prompts for the terminal, log messages for MCP). Nothing here
imports a terminal library.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO


class Progress(Protocol):
    """A progress display for one long operation (a download)."""

    def update(self, completed: int, total: int | None, status: str = "") -> None: ...

    def close(self, final: str = "") -> None: ...


class ProviderUI(Protocol):
    """The face's services for startup hooks."""

    interactive: bool
    assume_yes: bool

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def confirm(self, question: str, default: bool = False) -> bool: ...

    def progress(self, description: str) -> Progress: ...


class StderrUI:
    """Plain lines on stderr; a redrawn single-line bar only when stderr is a terminal."""

    def __init__(self, stream: TextIO | None = None, *, interactive: bool = False, assume_yes: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.interactive = interactive
        self.assume_yes = assume_yes

    def info(self, message: str) -> None:
        print(message, file=self.stream, flush=True)

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=self.stream, flush=True)

    def confirm(self, question: str, default: bool = False) -> bool:
        if self.assume_yes:
            return True
        if not self.interactive:
            return False
        suffix = " [Y/n] " if default else " [y/N] "
        print(question + suffix, end="", file=self.stream, flush=True)
        answer = sys.stdin.readline().strip().lower()
        return default if not answer else answer in ("y", "yes")

    def progress(self, description: str) -> Progress:
        return _LineProgress(self.stream, description)


class _LineProgress:
    def __init__(self, stream: TextIO, description: str) -> None:
        self.stream = stream
        self.description = description
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.last_status = ""

    def update(self, completed: int, total: int | None, status: str = "") -> None:
        now = time.monotonic()
        if status and status != self.last_status and not self.tty:
            print(f"{self.description}: {status}", file=self.stream, flush=True)
        self.last_status = status or self.last_status
        if not self.tty or now - self.last_draw < 0.1:
            return
        self.last_draw = now
        print("\r" + format_progress(self.description, completed, total, now - self.started, status),
              end="", file=self.stream, flush=True)

    def close(self, final: str = "") -> None:
        if self.tty:
            print("\r\x1b[2K", end="", file=self.stream)
        if final:
            print(final, file=self.stream, flush=True)


def format_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


def format_progress(description: str, completed: int, total: int | None, elapsed: float, status: str) -> str:
    """`pulling gpt-oss:20b  42% [#####.....] 5.4 GB/13 GB 51 MB/s ETA 2m31s`."""
    rate = completed / elapsed if elapsed > 0 else 0.0
    if not total:
        return f"{description} {format_bytes(completed)} {format_bytes(rate)}/s {status}".rstrip()
    fraction = min(1.0, completed / total)
    width = 20
    bar = "#" * int(fraction * width) + "." * (width - int(fraction * width))
    eta = (total - completed) / rate if rate > 0 else 0.0
    minutes, seconds = divmod(int(eta), 60)
    return (
        f"{description} {fraction * 100:3.0f}% [{bar}] {format_bytes(completed)}/{format_bytes(total)} "
        f"{format_bytes(rate)}/s ETA {minutes}m{seconds:02d}s"
    )
