"""What a ``codex exec`` that has run before does not import.

Start-up is most of such a run, and each of these costs milliseconds to tens of them: the
config schema's validators (a verdict for the exact config data is remembered), codex.cli.main
and its click commands (a plain command line is read by codex.cli.quick_parse), and the wire
APIs, tools and renderers the run does not use. A change that drags one back in fails here.
pydantic does not come in even with a tool call: jsonschema-rs checks its arguments against the
built-in tools' schemas, data in ``codex.tools.schemas``, never read from a cache a sandboxed
command could write (config.toml is parsed every run, for the same reason); the ``jsonschema``
package (~42 ms to import, installed for the mcp SDK) never comes in. httpx2 sends every model
request.

The probe is ``sys.modules`` when the process exits (``-X importtime`` does not see modules
loaded through ``importlib.import_module``, which is how codex loads references).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mock_model import Call, MockModelServer, Text, mock_model  # noqa: F401  (fixture)

# These tests are about what a cache saves: they need caches on.
pytestmark = pytest.mark.caching

# click, rich and httpx (the first generation, whose package imports its command-line client and
# with it click, rich and pygments, ~40 ms a run) stay out: httpx2 sends the requests.
NOT_IMPORTED = ("codex.cli.main", "codex_ollama.wire", "codex_ollama.startup", "codex.config.schema", "click",
                "rich", "httpx")
# Code for work an answer without tool calls does not do: tools, commands, the other renderer,
# pydantic, and jsonschema-rs, which checks a tool call's arguments.
NOT_IMPORTED_WITHOUT_TOOLS = (*NOT_IMPORTED, "codex.tools.shell", "codex.tools.patch_tool", "codex.tools.plan",
                              "codex.execution", "codex.cli.render_json", "codex_seatbelt.policy", "pydantic",
                              "jsonschema_rs")

# Runs the real CLI entry point and writes the module names it ended with (codex's exit runs
# atexit handlers before os._exit, so the list is complete).
_PROBE = """
import atexit, sys
listing = sys.argv.pop(1)
atexit.register(lambda: open(listing, "w").write("\\n".join(sorted(sys.modules))))
from codex.cli.entry import main
main()
"""


def exec_modules(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    listing = tmp_path / "modules.txt"
    # The example plugins' tools build their schemas from pydantic models each run: what is
    # measured here is codex and its built-in plugins.
    env = {**os.environ, "CODEX_DISABLE_PLUGINS": "example,now"}
    done = subprocess.run([sys.executable, "-c", _PROBE, str(listing), "exec", "--skip-git-repo-check", *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done, set(listing.read_text().split())


def configure(codex_home: Path, mock_model: MockModelServer, wire: str) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml("mock", wire, request_max_retries=0, stream_max_retries=0)
    )


@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_second_exec_imports_no_heavy_module(
    codex_home: Path, mock_model: MockModelServer, tmp_path: Path, wire: str
) -> None:
    configure(codex_home, mock_model, wire)
    modules = []
    for answer in ("first", "second"):
        if wire == "responses":
            mock_model.responses_turn(Text(answer))
        else:
            mock_model.chat_turn(Text(answer))
        done, seen = exec_modules(tmp_path, "hello")
        assert done.stdout.strip() == answer
        modules.append(seen)
    assert {"codex.engine", f"codex_openai.{wire}"} <= modules[1]  # the probe sees what ran
    assert "codex.config.schema" in modules[0]  # the first run checked the config
    other_wire = "codex_openai.chat" if wire == "responses" else "codex_openai.responses"
    assert sorted(m for m in (*NOT_IMPORTED_WITHOUT_TOOLS, other_wire) if m in modules[1]) == []


def test_second_exec_with_a_shell_call_imports_no_heavy_module(
    codex_home: Path, mock_model: MockModelServer, tmp_path: Path
) -> None:
    configure(codex_home, mock_model, "responses")
    modules = []
    for answer in ("first", "second"):
        mock_model.responses_turn(Call("shell", {"command": ["echo", f"ran-{answer}"]}, f"call_{answer}"))
        mock_model.responses_turn(Text(answer))
        done, seen = exec_modules(tmp_path, "--full-auto", "hello")
        assert done.stdout.strip() == answer
        modules.append(seen)
    tool_output = mock_model.requests[-1].json["input"][-1]["output"]
    assert "ran-second" in tool_output  # the command really ran, and its output came back
    assert {"codex.tools.shell", "codex.execution", "jsonschema_rs"} <= modules[1]
    # The call was checked by jsonschema-rs against the built-in schema: no pydantic model is built,
    # and the jsonschema package (installed for the mcp SDK) is not imported.
    assert sorted(m for m in (*NOT_IMPORTED, "codex_openai.chat", "pydantic", "jsonschema") if m in modules[1]) == []
    assert "jsonschema" not in modules[0]  # nor in a first run, which checks the config with pydantic
