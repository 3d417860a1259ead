"""Leaving the terminal: once the live area is erased, nothing draws it again.

``asyncio.run`` keeps turning the loop while it shuts down (cancelling tasks, joining the
executor), so a spinner tick that comes due then used to draw "starting codex…" again below
the error that ended the run. Here the app runs in this process on a real pseudo-terminal with
the tick due on every turn of the loop, which makes that moment certain instead of rare.
"""

from __future__ import annotations

import os
import threading

import pytest

from codex.cli.tui import app as app_module
from codex.cli.tui.app import Launch, run
from codex.cli.tui.screen import TerminalScreen, starting_frame
from codex.cli.tui.text import Palette
from codex.errors import CodexError

ERASE = b"\x1b[J"


def test_nothing_is_drawn_after_the_live_area_is_erased(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "TICK_SECONDS", 0.0)
    leader, follower = os.openpty()
    received = bytearray()

    def drain() -> None:  # a terminal that keeps reading, so drawing never blocks
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the follower side was closed: everything is read
                return
            if not data:
                return
            received.extend(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    screen = TerminalScreen(follower, follower, lambda width, _height: starting_frame(Palette(False), width))
    screen.enter_raw_mode()
    screen.draw()

    def load() -> tuple[object, object]:
        raise CodexError("config.toml:1:16: sandbox_mode: broken on purpose")

    try:
        with pytest.raises(CodexError, match="broken on purpose"):
            run(Launch(prompt=None, resume=None, load=load, screen=screen))  # type: ignore[arg-type]
    finally:
        os.close(follower)
        reader.join(10)
        os.close(leader)

    assert b"starting codex" in received  # the live area was drawn...
    after_erase = bytes(received).rsplit(ERASE, 1)[-1]
    assert b"starting codex" not in after_erase  # ...and not again after the last erase
