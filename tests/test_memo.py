"""The verdict memo: private files, never trusted beyond a verdict; tool schemas built each run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codex.memo import Memo, file_digest
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


def test_file_digest_follows_the_content_not_the_timestamp(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("a")
    before = file_digest(str(path))
    os.utime(path, (0, 0))
    assert file_digest(str(path)) == before
    path.write_text("b")
    assert file_digest(str(path)) != before
    assert file_digest(str(tmp_path / "missing")) == "-"


def test_memo_files_are_private_and_foreign_ones_are_ignored(cache: Path) -> None:
    memo = Memo("private")
    memo.put("k", True)
    assert oct(os.stat(memo.path).st_mode & 0o777) == oct(0o600)
    assert oct(os.stat(cache).st_mode & 0o777) == oct(0o700)
    os.chmod(memo.path, 0o666)  # writable by others: whoever wrote it, it is not trusted
    assert Memo("private").get("k") is None


def test_memo_never_reads_through_a_symlink(cache: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"k": True}))
    elsewhere.chmod(0o600)
    cache.mkdir(parents=True)
    os.symlink(elsewhere, Memo("linked").path)
    assert Memo("linked").get("k") is None
    Memo("linked").put("j", True)
    assert json.loads(elsewhere.read_text()) == {"k": True}  # replaced the link, not written through
    assert not os.path.islink(Memo("linked").path)


def test_a_symlinked_cache_directory_is_not_written_through(cache: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cache.parent.mkdir(parents=True)
    cache.symlink_to(elsewhere)
    Memo("through").put("k", True)
    assert list(elsewhere.iterdir()) == []


def test_writing_a_memo_removes_retired_value_memos(cache: Path) -> None:
    cache.mkdir(parents=True)
    retired = cache / "config-parsed-00000000.json"
    retired.write_text('{"k": {"data": {"http_headers": "secret"}}}')
    Memo("config-verdicts").put("k", True)
    assert not retired.exists()


# --- tools offered by reference --------------------------------------------------------------


async def _noop(args: object, ctx: object) -> ToolResult:
    return ToolResult("ok")


def test_reference_gives_the_same_schema_as_the_class(cache: Path) -> None:
    from codex_plugin_example.args import WordCountArgs

    by_class = Tool("word_count", "d", WordCountArgs, _noop).spec()
    by_reference = Tool("word_count", "d", "codex_plugin_example.args:WordCountArgs", _noop).spec()
    assert by_class == by_reference
    assert isinstance(by_reference, ToolSpec)
    assert by_reference.parameters["required"] == ["path"]
    assert "title" not in by_reference.parameters


def test_a_broken_reference_names_the_tool_and_the_reference(cache: Path) -> None:
    with pytest.raises(TypeError, match=r"tool 'x': parameters 'codex_plugin_example.args:Nope' cannot be imported"):
        Tool("x", "d", "codex_plugin_example.args:Nope", _noop).spec()
    with pytest.raises(TypeError, match="is not a pydantic model class"):
        Tool("x", "d", "codex_plugin_example.args:Field", _noop).spec()


def test_a_planted_tool_schema_cache_changes_nothing(cache: Path) -> None:
    """The schema the model reads comes from the model class, whatever the cache holds."""
    probe = textwrap.dedent(
        """
        import json
        from codex.config.model import Config
        from codex.tools.builtin import builtin_tools
        print(json.dumps([tool.spec().parameters for tool in builtin_tools(Config())]))
        """
    )
    honest = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    cache.mkdir(parents=True, exist_ok=True)
    path = Path(Memo("tool-schemas").path)
    kept = json.loads(path.read_text()) if path.exists() else {}  # what an older codex remembered
    empty = {"schema": {"type": "object", "properties": {}}, "plain": True}
    path.write_text(json.dumps({key: empty for key in kept} or {"any": empty}))
    path.chmod(0o600)
    again = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert again.stdout == honest.stdout
    assert json.loads(again.stdout)[0]["required"] == ["command"]


def test_an_edited_model_module_gives_its_new_schema(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
