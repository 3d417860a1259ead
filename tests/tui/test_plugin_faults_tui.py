"""The terminal UI with a plugin that raises: the error is on screen and the prompt stays.

The faulty plugin and its config are those of ``tests/test_plugin_faults.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import PluginSite
from tests.mock_model import MockModelServer, Text
from tests.test_plugin_faults import CARRY_ON, FAIL, FAULTY_PLUGIN, config_text, script_model
from tests.tui.pty_harness import PtyCodex

READY = "⏎ send"


@pytest.mark.parametrize(("point", "expected"), [("wire", "wire API 'faulty' (plugin 'faulty') failed")])
def test_a_turn_error_is_shown_and_the_prompt_stays(
    point: str, expected: str, start_codex: Callable[..., PtyCodex], mock_model: MockModelServer,
    plugin_site: PluginSite, codex_home: Path,
) -> None:
    assert FAIL[(point, "raise")].startswith(expected)
    plugin_site.add("faulty", FAULTY_PLUGIN)
    (codex_home / "config.toml").write_text(config_text(mock_model, point), encoding="utf-8")
    term = start_codex(env={**plugin_site.env, "FAULT_AT": f"{point}:raise"})
    term.wait_for(READY)

    term.send("first try\r")
    term.wait_for(expected)
    term.wait_until(lambda screen: READY in screen.split(expected)[-1], "the prompt after the error")

    term.send("second try\r")  # the session is still there and takes the next prompt
    term.wait_for(expected, count=2)
    term.send("\x04")
    assert term.wait_exit() == 0


def test_a_failed_tool_is_told_to_the_model_and_the_turn_goes_on(
    start_codex: Callable[..., PtyCodex], mock_model: MockModelServer, plugin_site: PluginSite, codex_home: Path,
) -> None:
    plugin_site.add("faulty", FAULTY_PLUGIN)
    (codex_home / "config.toml").write_text(config_text(mock_model, "tool"), encoding="utf-8")
    script_model(mock_model, "tool")
    term = start_codex(env={**plugin_site.env, "FAULT_AT": "tool:raise"})
    term.wait_for(READY)

    term.send("go\r")
    term.wait_for("carried on")
    told = mock_model.requests[1].json["input"]
    assert any(CARRY_ON[("tool", "raise")] in str(item.get("output")) for item in told)
    mock_model.responses_turn(Text("still here"))
    term.send("again\r")
    term.wait_for("still here")
    term.send("\x04")
    assert term.wait_exit() == 0


def test_a_provider_startup_that_raises_ends_with_its_name_on_screen(
    start_codex: Callable[..., PtyCodex], mock_model: MockModelServer, plugin_site: PluginSite, codex_home: Path,
) -> None:
    plugin_site.add("faulty", FAULTY_PLUGIN)
    (codex_home / "config.toml").write_text(config_text(mock_model, "startup"), encoding="utf-8")
    term = start_codex(env={**plugin_site.env, "FAULT_AT": "startup:raise"})

    assert term.wait_exit() == 1
    assert "plugin 'faulty' failed in codex_provider_startup" in term.text().replace("\n", "")
