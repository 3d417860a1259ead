"""docs/plugins.md works as written: its code is run, not just read.

The plugin of its first section is installed from the guide's own files (pyproject entry point,
``__init__.py``, ``tools.py``) and its tool answers the mock model through the real CLI; the
guide's wire passes the conformance kit with the guide's script; every other example parses.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path
from typing import Any

from codex.testing import check_wire
from tests.conftest import PluginSite, RunCodex
from tests.mock_model import Call, MockModelServer, Text

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
_BLOCK = re.compile(r"^( *)```(\w+)\n(.*?)^\1```$", re.M | re.S)


def guide_blocks(language: str) -> list[str]:
    """The guide's code blocks in ``language``, dedented, in order."""
    blocks = []
    for match in _BLOCK.finditer(GUIDE.read_text(encoding="utf-8")):
        if match[2] == language:
            indent = len(match[1])
            blocks.append("".join(line[indent:] for line in match[3].splitlines(keepends=True)))
    return blocks


def guide_block(language: str, containing: str) -> str:
    [block] = [b for b in guide_blocks(language) if containing in b]
    return block


def test_every_python_example_in_the_guide_parses() -> None:
    blocks = guide_blocks("python")
    assert len(blocks) >= 12
    for block in blocks:
        ast.parse(block)


def test_the_guides_first_plugin_installs_and_its_tool_works(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex,
    plugin_site: PluginSite,
) -> None:
    project = tomllib.loads(guide_block("toml", "[project.entry-points.codex]"))["project"]
    [(entry, module)] = project["entry-points"]["codex"].items()
    info = plugin_site.root / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    (info / "entry_points.txt").write_text(f"[codex]\n{entry} = {module}\n")
    package = plugin_site.root / module
    package.mkdir()
    (package / "__init__.py").write_text(guide_block("python", "\"\"\"codex-tool-wordcount"))
    (package / "tools.py").write_text(guide_block("python", "async def count_words"))

    listed = run_codex("plugins", "--json", env=plugin_site.env)
    assert listed.returncode == 0, listed.stderr
    row = next(r for r in json.loads(listed.stdout) if r["name"] == entry)
    assert (row["distribution"], row["api_version"], row["error"]) == ("codex-tool-wordcount", "1.1", None)
    assert row["provides"] == {"tools": ["word_count"]}

    (git_workspace / "notes.txt").write_text("one two three four\n")
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n' + mock_model.provider_toml(request_max_retries=0)
    )
    mock_model.responses_turn(Call("word_count", {"path": "notes.txt"}, "call_1"))
    mock_model.responses_turn(Text("four words"))
    run = run_codex("exec", "count the words", cwd=git_workspace, env=plugin_site.env)
    assert run.returncode == 0, run.stderr
    items = mock_model.requests[-1].json["input"]
    told = [i["output"] for i in items if i.get("call_id") == "call_1" and i["type"] == "function_call_output"]
    assert told == ["4"]


def test_the_guides_wire_keeps_the_contract() -> None:
    wire_space: dict[str, Any] = {}
    exec(compile(guide_block("python", "class AcmeApi"), "docs/plugins.md (AcmeApi)", "exec"), wire_space)
    script = guide_block("python", "SCRIPT = WireScript(")
    script = "\n".join(line for line in script.splitlines() if "codex_provider_acme" not in line)
    script_space: dict[str, Any] = {}
    exec(compile(script, "docs/plugins.md (SCRIPT)", "exec"), script_space)
    report = check_wire(wire_space["AcmeApi"](), script_space["SCRIPT"])
    assert report.failures == {} and len(report.results) >= 11
