"""The real ``codex`` in a pseudo-terminal, with what it draws kept as a screen.

pexpect gives the program a real terminal (so it runs its interactive face: raw keys, the live
area, colours); pyte, a VT100 emulator, replays the output into a grid of cells, so a test can
assert on the text a person would see, including what has scrolled up::

    term = PtyCodex.start(["-a", "untrusted"], env=env, cwd=workspace)
    term.wait_for("Ask codex to do anything")
    term.send("hello\\r")
    term.wait_for("tokens:")

Every wait is bounded; a timeout fails with the screen as it was.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pexpect  # type: ignore[import-untyped]
import pyte

REPO = Path(__file__).resolve().parents[2]
COLUMNS = 80
ROWS = 40
WAIT_SECONDS = 20.0


def codex_argv(args: Sequence[str]) -> list[str]:
    """How the tests start the real program: ``python -m codex ARGS``."""
    return [sys.executable, "-m", "codex", *args]


class PtyCodex:
    """One ``codex`` process on a pseudo-terminal of ``COLUMNS`` x ``ROWS``."""

    def __init__(self, child: pexpect.spawn, columns: int, rows: int) -> None:
        self.child = child
        self.columns = columns
        self.screen = pyte.HistoryScreen(columns, rows, history=5000)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.exited = False

    @classmethod
    def start(
        cls,
        args: Sequence[str],
        *,
        env: dict[str, str],
        cwd: Path,
        columns: int = COLUMNS,
        rows: int = ROWS,
        argv: Callable[[Sequence[str]], list[str]] = codex_argv,
    ) -> PtyCodex:
        """Spawn ``codex ARGS`` in ``cwd`` with exactly ``env``."""
        command = argv(args)
        child = pexpect.spawn(command[0], command[1:], env=env, cwd=str(cwd), dimensions=(rows, columns))
        child.delaybeforesend = None
        return cls(child, columns, rows)

    # ------------------------------------------------------------------ reading

    def _read(self, timeout: float) -> None:
        if self.exited:
            return
        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return
        except pexpect.EOF:
            self.exited = True
            return
        self.raw += data
        self.stream.feed(data)

    def _line(self, line: dict[int, pyte.screens.Char]) -> str:
        return "".join(line[x].data for x in range(self.columns)).rstrip()

    def text(self) -> str:
        """Everything on the screen and in its scrollback, one line per row."""
        scrolled = [self._line(line) for line in self.screen.history.top]
        visible = [row.rstrip() for row in self.screen.display]
        return "\n".join(scrolled + visible)

    def visible(self) -> str:
        """The rows currently on the screen."""
        return "\n".join(row.rstrip() for row in self.screen.display)

    def wait_for(self, needle: str, *, count: int = 1, timeout: float = WAIT_SECONDS) -> str:
        """Read until ``needle`` appears ``count`` times on the screen (with scrollback)."""
        return self.wait_until(lambda text: text.count(needle) >= count, f"{needle!r} x{count}", timeout=timeout)

    def wait_until(self, check: Callable[[str], bool], what: str, *, timeout: float = WAIT_SECONDS) -> str:
        """Read until ``check(screen text)`` holds; fail with the screen after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if check(text):
                return text
            if time.monotonic() > deadline or self.exited:
                state = "exited" if self.exited else "still running"
                raise AssertionError(f"waited {timeout:.0f}s for {what}; codex {state}; screen:\n{text}")
            self._read(0.05)

    def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> None:
        """Read until nothing has arrived for ``quiet`` seconds (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        last = len(self.raw)
        quiet_since = time.monotonic()
        while time.monotonic() < deadline and not self.exited:
            self._read(0.05)
            if len(self.raw) != last:
                last = len(self.raw)
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return

    # ------------------------------------------------------------------ writing and ending

    def send(self, keys: str) -> None:
        """Type ``keys`` (``\\r`` is Enter, ``\\x03`` Ctrl-C, ``\\x04`` Ctrl-D)."""
        self.child.send(keys)

    def resize(self, columns: int, rows: int) -> None:
        """Change the terminal's size (the program gets SIGWINCH), as dragging a window does."""
        self.screen.resize(rows, columns)
        self.columns = columns
        self.child.setwinsize(rows, columns)

    def wait_exit(self, timeout: float = WAIT_SECONDS) -> int:
        """Wait for the process to end; its exit status."""
        deadline = time.monotonic() + timeout
        while not self.exited and time.monotonic() < deadline:
            self._read(0.1)
        if not self.exited:
            raise AssertionError(f"codex did not exit within {timeout:.0f}s; screen:\n{self.text()}")
        self.child.close()
        status = self.child.exitstatus
        return status if status is not None else 128 + (self.child.signalstatus or 0)

    def close(self) -> None:
        """Kill the process if a test left it running."""
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()


def process_gone(pid: int, timeout: float = 10.0) -> bool:
    """True once ``pid`` no longer exists (or is a zombie nobody reaps), polling up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False
