"""The start-up memo and what it serves: tool schemas offered without importing pydantic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codex.memo import Memo, file_stamp
from codex.tools.base import Tool, ToolResult, ToolSpec


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CODEX_CACHE", raising=False)
    return tmp_path / "cache" / "codex-py"


def test_memo_round_trip_between_instances(cache: Path) -> None:
    Memo("things").put("k", {"a": [1, 2]})
    assert Memo("things").get("k") == {"a": [1, 2]}
    assert Memo("things").get("other") is None
    assert Memo("other-things").get("k") is None


def test_memo_keeps_only_the_newest_entries(cache: Path) -> None:
    memo = Memo("bounded", limit=3)
    for i in range(5):
        memo.put(f"k{i}", i)
    fresh = Memo("bounded", limit=3)
    assert [fresh.get(f"k{i}") for i in range(5)] == [None, None, 2, 3, 4]


def test_memo_treats_a_corrupt_file_as_empty_and_repairs_it(cache: Path) -> None:
    memo = Memo("broken")
    Path(memo.path).parent.mkdir(parents=True)
    Path(memo.path).write_text("{not json", encoding="utf-8")
    assert Memo("broken").get("k") is None
    Memo("broken").put("k", 1)
    assert json.loads(Path(memo.path).read_text(encoding="utf-8")) == {"k": 1}


def test_memo_unwritable_directory_costs_only_the_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    memo = Memo("nowhere")
    memo.put("k", 1)  # no exception
    assert Memo("nowhere").get("k") is None


def test_codex_cache_0_turns_memos_off(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Memo("switch").put("k", 1)
    monkeypatch.setenv("CODEX_CACHE", "0")
    assert Memo("switch").get("k") is None


def test_file_stamp_changes_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "f.py"
    path.write_text("a = 1\n")
    before = file_stamp(str(path))
    path.write_text("a = 12\n")
    assert file_stamp(str(path)) != before
    assert file_stamp(str(tmp_path / "missing")) == "-"


# --- tools offered by reference --------------------------------------------------------------


async def _noop(args: object, ctx: object) -> ToolResult:
    return ToolResult("ok")


def test_reference_gives_the_same_schema_as_the_class(cache: Path) -> None:
    from codex.tools.arguments import ShellArgs

    by_class = Tool("shell", "d", ShellArgs, _noop).spec()
    by_reference = Tool("shell", "d", "codex.tools.arguments:ShellArgs", _noop).spec()
    remembered = Tool("shell", "d", "codex.tools.arguments:ShellArgs", _noop).spec()
    assert by_class == by_reference == remembered
    assert isinstance(by_reference, ToolSpec)
    assert by_reference.parameters["required"] == ["command"]
    assert "title" not in by_reference.parameters


def test_a_broken_reference_names_the_tool_and_the_reference(cache: Path) -> None:
    with pytest.raises(TypeError, match=r"tool 'x': parameters 'codex.tools.arguments:Nope' cannot be imported"):
        Tool("x", "d", "codex.tools.arguments:Nope", _noop).model()
    with pytest.raises(TypeError, match="is not a pydantic model class"):
        Tool("x", "d", "codex.tools.arguments:Literal", _noop).model()


_PROBE = textwrap.dedent(
    """
    import json, sys
    from codex.config.model import Config
    from codex.tools.builtin import builtin_tools
    specs = [tool.spec().parameters for tool in builtin_tools(Config())]
    print(json.dumps({"pydantic": "pydantic" in sys.modules, "specs": specs}))
    """
)


def _probe(env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_second_process_offers_builtin_tools_without_pydantic(cache: Path) -> None:
    env = {**os.environ}
    first = _probe(env)
    second = _probe(env)
    assert first["pydantic"] is True  # nothing remembered yet: the schemas were built
    assert second["pydantic"] is False
    assert second["specs"] == first["specs"]
    env_off = {**env, "CODEX_CACHE": "0"}
    assert _probe(env_off)["pydantic"] is True


def test_editing_the_model_module_is_a_miss(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    module = package / "memo_probe_args.py"
    module.write_text("from pydantic import BaseModel\nclass A(BaseModel):\n    x: int\n")
    monkeypatch.syspath_prepend(str(package))
    first = Tool("t", "d", "memo_probe_args:A", _noop).spec().parameters
    module.write_text("from pydantic import BaseModel\nclass A(BaseModel):\n    renamed_field: str\n")
    sys.modules.pop("memo_probe_args", None)
    second = Tool("t", "d", "memo_probe_args:A", _noop).spec().parameters
    assert list(first["properties"]) == ["x"]
    assert list(second["properties"]) == ["renamed_field"]
