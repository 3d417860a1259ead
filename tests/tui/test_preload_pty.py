"""The first turn's imports load in the background while the person types.

Observed from outside the real ``codex`` in a pty, with Python's own ``sitecustomize`` hook (a
file on PYTHONPATH that the interpreter imports at start; nothing in codex knows about it):

- SIGUSR1 makes the process write the names in ``sys.modules`` to a file, so a test can ask
  "is httpx2 loaded yet?" at any moment without sending a prompt;
- an import finder holds (or fails) the import of one module when the ``codex-preload`` thread
  asks for it, so a test can act while preloading is known to be running, or make it fail.
"""

from __future__ import annotations

import os
import signal
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.mock_model import MockModelServer
from tests.tui.pty_harness import PtyCodex

READY = "⏎ send"
WAIT_SECONDS = 20.0

SITECUSTOMIZE = '''
"""Test instrumentation for tests/tui/test_preload_pty.py (loaded only by those tests)."""
import os
import signal
import sys
import threading
import time

PROBE = os.environ["CODEX_TEST_PROBE_DIR"]


def _dump_modules(*_args):
    target = os.path.join(PROBE, "modules.txt")
    with open(target + ".part", "w", encoding="utf-8") as handle:
        handle.write("\\n".join(sorted(sys.modules)))
    os.replace(target + ".part", target)


class _PreloadGate:
    """Acts on the import of CODEX_TEST_GATED made by the preloading thread only."""

    def find_spec(self, name, path=None, target=None):
        if name != os.environ.get("CODEX_TEST_GATED") or threading.current_thread().name != "codex-preload":
            return None
        open(os.path.join(PROBE, "preloading"), "w").close()
        if os.environ.get("CODEX_TEST_GATE") == "fail":
            raise ImportError("gated import failed on purpose by the test")
        deadline = time.monotonic() + 30
        while not os.path.exists(os.path.join(PROBE, "release")) and time.monotonic() < deadline:
            time.sleep(0.01)
        return None


signal.signal(signal.SIGUSR1, _dump_modules)
sys.meta_path.insert(0, _PreloadGate())
'''


class Probe:
    """The instrumented process's side files: its module list, the gate's marker and release."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        (root / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE), encoding="utf-8")

    def env(self, **extra: str) -> dict[str, str]:
        """PYTHONPATH with the hook first, and where it writes."""
        existing = os.environ.get("PYTHONPATH", "")
        path = os.pathsep.join(p for p in (str(self.root), existing) if p)
        return {"PYTHONPATH": path, "CODEX_TEST_PROBE_DIR": str(self.root), **extra}

    def modules(self, term: PtyCodex) -> set[str]:
        """The modules loaded in ``term``'s process right now."""
        dump = self.root / "modules.txt"
        dump.unlink(missing_ok=True)
        os.kill(term.child.pid, signal.SIGUSR1)
        deadline = time.monotonic() + WAIT_SECONDS
        while not dump.exists():
            assert time.monotonic() < deadline, "codex did not write its module list"
            term.settle(quiet=0.02, timeout=0.05)  # keep reading the pty so codex never blocks on it
        return set(dump.read_text(encoding="utf-8").split("\n"))

    def wait_for_modules(self, term: PtyCodex, wanted: set[str]) -> set[str]:
        """The module list once it holds all of ``wanted`` (asked again every 0.2 s, bounded)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            loaded = self.modules(term)
            if wanted <= loaded:
                return loaded
            assert time.monotonic() < deadline, f"still not loaded after {WAIT_SECONDS:.0f}s: {wanted - loaded}"
            term.settle(quiet=0.2, timeout=0.3)

    def wait_for_preloading(self) -> None:
        """Until the preloading thread has reached the gated import."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not (self.root / "preloading").exists():
            assert time.monotonic() < deadline, "the preloading thread never imported the gated module"
            time.sleep(0.02)

    def release(self) -> None:
        """Let the held import go on."""
        (self.root / "release").touch()


@pytest.fixture
def probe(tmp_path: Path) -> Probe:
    """The sitecustomize hook for one test."""
    return Probe(tmp_path / "probe")


@pytest.fixture
def preload_env(tui_env: dict[str, str]) -> dict[str, str]:
    """The TUI environment with preloading in its default state (on)."""
    tui_env.pop("CODEX_TUI_PRELOAD", None)
    return tui_env


def test_http_stack_and_tool_schemas_load_before_any_prompt_is_sent(
    start_codex: Callable[..., PtyCodex], preload_env: dict[str, str], probe: Probe, mock_model: MockModelServer
) -> None:
    term = start_codex(env=probe.env())
    term.wait_for(READY)
    # What the first model request needs: the HTTP stack, the mock provider's wire module
    # (the openai plugin's Responses client), the third-party test plugin's argument model, and
    # jsonschema-rs, which checks the first tool call.
    first_turn = {"httpx2", "httpcore2", "h11", "codex.http", "codex_openai.responses", "codex_plugin_example.args",
                  "jsonschema_rs"}
    loaded = probe.wait_for_modules(term, first_turn)
    assert "pydantic" in loaded
    assert mock_model.requests == []  # nothing was sent: the imports came from the preloading

    mock_model.responses_text("preloaded and answering")
    term.send("hello\r")
    term.wait_for("preloaded and answering")
    term.send("\x04")
    assert term.wait_exit() == 0


def test_prompt_echoes_keys_while_preloading_runs(
    start_codex: Callable[..., PtyCodex], preload_env: dict[str, str], probe: Probe, mock_model: MockModelServer
) -> None:
    term = start_codex(env=probe.env(CODEX_TEST_GATED="httpx2"))
    probe.wait_for_preloading()  # the preloading thread is now inside `import httpx2`, held there
    term.wait_for(READY)
    term.send("typed while preloading")
    term.wait_for("› typed while preloading")
    assert "httpx2" not in probe.modules(term)  # the echo above happened with the import in flight

    probe.release()
    probe.wait_for_modules(term, {"httpx2", "codex_openai.responses"})
    mock_model.responses_text("the answer after the wait")
    term.send("\r")
    term.wait_for("the answer after the wait")
    assert mock_model.requests[0].json["input"][-1]["content"][0]["text"] == "typed while preloading"
    term.send("\x04")
    assert term.wait_exit() == 0


def test_a_failed_preload_is_silent_and_the_turn_imports_for_itself(
    start_codex: Callable[..., PtyCodex], preload_env: dict[str, str], probe: Probe, mock_model: MockModelServer
) -> None:
    term = start_codex(env=probe.env(CODEX_TEST_GATED="httpx2", CODEX_TEST_GATE="fail"))
    probe.wait_for_preloading()  # the preloading thread's `import httpx2` has raised by now
    term.wait_for(READY)
    # The steps after the failed one still ran.
    probe.wait_for_modules(term, {"codex_openai.responses", "codex_plugin_example.args"})

    mock_model.responses_text("answered all the same")
    term.send("go on\r")
    screen = term.wait_for("answered all the same")
    assert "failed on purpose" not in screen
    assert "Traceback" not in screen
    assert "ImportError" not in screen
    term.send("\x04")
    assert term.wait_exit() == 0
