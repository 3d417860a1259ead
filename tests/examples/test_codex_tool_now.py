"""The example tool plugin (examples/codex-tool-now), installed as published, driven by a real
``codex exec`` whose model calls its tool."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from tests.conftest import RunCodex
from tests.mock_model import Call, MockModelServer, Text


def test_the_model_calls_now_and_gets_the_time_in_its_zone(
    mock_model: MockModelServer, write_config: object, git_workspace: Path, run_codex: RunCodex
) -> None:
    write_config('model = "mock-model"\nmodel_provider = "mock"\n' + mock_model.provider_toml("mock", "responses"))
    mock_model.responses_turn(Call("now", {"timezone": "Asia/Tokyo"}, "tokyo"), Call("now", {}, "default"),
                              Call("now", {"timezone": "Mars/Olympus_Mons"}, "mars"),
                              Call("now", {"timezone": 9}, "nine"))
    mock_model.responses_turn(Text("It is morning in Tokyo."))

    result = run_codex("exec", "What time is it in Tokyo?", cwd=git_workspace, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "It is morning in Tokyo.\n"
    offered = [tool["name"] for tool in mock_model.requests[0].json["tools"]]
    assert "now" in offered
    told = {i["call_id"]: i["output"] for i in mock_model.requests[1].json["input"]
            if i.get("type") == "function_call_output"}
    assert datetime.fromisoformat(told["tokyo"]).isoformat().endswith("+09:00")
    assert datetime.fromisoformat(told["default"]).isoformat().endswith("+00:00")
    assert told["mars"] == (
        "error: tool 'now' (plugin 'now') failed: "
        "ZoneInfoNotFoundError: 'No time zone found with key Mars/Olympus_Mons'"
    )
    assert told["nine"].startswith("error: invalid arguments for now: timezone: expected a string; got 9.")
    # Each call is an item of the transcript on stderr, arguments and outcome included.
    assert 'tool now (plugin now) {"timezone": "Asia/Tokyo"}' in result.stderr
    assert "now succeeded in" in result.stderr and "now failed in" in result.stderr


def test_codex_plugins_lists_the_installed_distribution(run_codex: RunCodex) -> None:
    result = run_codex("plugins", "--json")

    assert result.returncode == 0, result.stderr
    row = next(row for row in json.loads(result.stdout) if row["name"] == "now")
    assert (row["distribution"], row["version"], row["builtin"]) == ("codex-tool-now", "0.1.0", False)
    assert row["provides"] == {"tools": ["now"]} and row["error"] is None
