"""A wire API that breaks the wire contract fails the turn loudly, through the real ``codex exec``.

Before the core checked the contract, a third-party wire that streamed text and never sent
``OutputItemDone`` made ``codex exec`` exit 0 with empty output, and one that stopped without
``Completed`` had its partial answer acted on. The throwaway distribution ``codex-plugin-sloppy``
(made with the ``plugin_site`` fixture) offers a wire API whose behaviour ``SLOPPY_MODE`` picks;
it needs no network, so the provider's base URL is never contacted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import PluginSite, RunCodex

SLOPPY_PLUGIN = '''
import os

import pluggy

from codex.protocol import Completed, Created, Message, OutputItemDone, OutputTextDelta

hookimpl = pluggy.HookimplMarker("codex")


class SloppyWire:
    name = "sloppy"

    async def stream(self, prompt, provider):
        mode = os.environ["SLOPPY_MODE"]
        yield Created("r1")
        for piece in ("the ", "answer"):
            yield OutputTextDelta(piece)
        if mode != "no-item":
            yield OutputItemDone(Message("assistant", "the answer"))
        if mode != "no-completed":
            yield Completed("r1")


@hookimpl
def codex_wire_apis():
    return {"sloppy": SloppyWire()}
'''

CONFIG = """\
model = "m"
model_provider = "sloppy"

[model_providers.sloppy]
name = "Sloppy"
base_url = "http://127.0.0.1:9/v1"
wire_api = "sloppy"
"""

SOURCE = "wire API 'sloppy' (plugin 'sloppy')"


@pytest.fixture
def sloppy_site(plugin_site: PluginSite, write_config: Callable[[str], Path]) -> PluginSite:
    plugin_site.add("sloppy", SLOPPY_PLUGIN)
    write_config(CONFIG)
    return plugin_site


def test_a_wire_that_keeps_the_contract_answers(
    sloppy_site: PluginSite, git_workspace: Path, run_codex: RunCodex
) -> None:
    # The control: the same plugin, keeping the contract, prints the answer and exits 0.
    result = run_codex("exec", "go", cwd=git_workspace, env={**sloppy_site.env, "SLOPPY_MODE": "ok"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "the answer"


@pytest.mark.parametrize(
    ("mode", "complaint"),
    [
        ("no-item", "streamed text (OutputTextDelta) but sent no OutputItemDone with the assistant Message"),
        ("no-completed", "ended the stream without a Completed event"),
    ],
)
def test_a_wire_that_breaks_the_contract_fails_the_turn_naming_the_plugin(
    mode: str, complaint: str, sloppy_site: PluginSite, git_workspace: Path, run_codex: RunCodex
) -> None:
    result = run_codex("exec", "go", cwd=git_workspace, env={**sloppy_site.env, "SLOPPY_MODE": mode})
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert f"{SOURCE} {complaint}" in result.stderr
    assert "docs/wire-contract.md" in result.stderr
    # Nothing of the broken attempt is passed off as the answer.
    assert "the answer" not in result.stdout


def test_json_mode_reports_the_broken_contract_as_an_error_event(
    sloppy_site: PluginSite, git_workspace: Path, run_codex: RunCodex
) -> None:
    result = run_codex(
        "exec", "--json", "go", cwd=git_workspace, env={**sloppy_site.env, "SLOPPY_MODE": "no-item"}
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    events = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    errors = [e for e in events if "error" in json.dumps(e).lower() and SOURCE in json.dumps(e)]
    assert errors, events
