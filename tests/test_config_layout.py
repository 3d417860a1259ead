"""Where ``codex config set`` puts a new key is decided from the text, the same on every tomlkit
version: after the last key of its table, never after the comment that introduces the next one."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex.config.edit import set_in_text
from codex.config.toml_layout import Statement, insertion_line, scan_statements

TRICKY = '''\
# leading comment
title = """
[not.a.table]
still the string
"""
matrix = [
  [1, 2],
  [3, 4],  # a comment with a ] bracket
]
inline = { a = "[x]", b = '#not a comment' }

# introduces [t]
[t]
k = 'it is [x] \\'   # literal strings have no escapes
esc = "a \\" [quoted] \\"\\"\\""

[[aot]]
n = 1
'''


def test_the_scanner_tells_headers_from_values_that_start_lines_with_brackets() -> None:
    assert scan_statements(TRICKY) == [
        Statement("key", 1, 4),
        Statement("key", 5, 8),
        Statement("key", 9, 9),
        Statement("table", 12, 12),
        Statement("key", 13, 13),
        Statement("key", 14, 14),
        Statement("array-table", 16, 16),
        Statement("key", 17, 17),
    ]


@pytest.mark.parametrize(
    ("path", "value", "expected_line"),
    [(("new",), 1, 10), (("t", "new"), "x", 15)],
)
def test_a_new_key_lands_after_the_tables_last_statement(path: tuple[str, ...], value: Any, expected_line: int) -> None:
    assert insertion_line(TRICKY, path[:-1]) == expected_line
    text, previous = set_in_text(TRICKY, path, value)
    assert previous is None
    lines = text.split("\n")
    assert lines[expected_line].startswith(f"{path[-1]} = ")
    data = tomllib.loads(text)
    assert data == _with(tomllib.loads(TRICKY), path, value)


def test_a_table_with_only_comments_gets_its_key_under_the_header() -> None:
    text = "[a]\n# nothing yet\n\n# about b\n[b]\nx = 1\n"
    assert set_in_text(text, ("a", "k"), True)[0] == "[a]\nk = true\n# nothing yet\n\n# about b\n[b]\nx = 1\n"


def test_a_first_top_level_key_goes_above_the_tables_with_a_blank_line() -> None:
    text = "# about a\n[a]\nx = 1\n"
    assert set_in_text(text, ("model",), "o3")[0] == 'model = "o3"\n\n# about a\n[a]\nx = 1\n'


def test_a_file_without_a_final_newline_or_with_crlf_keeps_its_endings() -> None:
    assert set_in_text("a = 1\r\n\r\n[t]\r\nb = 2", ("t", "c"), 3)[0] == "a = 1\r\n\r\n[t]\r\nb = 2\r\nc = 3\r\n"
    assert set_in_text("a = 1", ("b",), 2)[0] == "a = 1\nb = 2\n"


def test_quoted_and_dotted_header_names_are_matched_by_their_key_path() -> None:
    text = '[model_providers."my.host"]  # a proxy\nbase_url = "http://h/v1"\n\n[other]\n'
    out = set_in_text(text, ("model_providers", "my.host", "name"), "Mine")[0]
    assert out == '[model_providers."my.host"]  # a proxy\nbase_url = "http://h/v1"\nname = "Mine"\n\n[other]\n'


_keys = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
_scalars = st.one_of(
    st.integers(-1000, 1000),
    st.booleans(),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
)
_values = st.one_of(_scalars, st.lists(_scalars, max_size=3))


@st.composite
def _documents(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A config text with comments, multi-line arrays and tables, and the data it holds."""
    import tomlkit

    top = draw(st.dictionaries(_keys, _values, max_size=3))
    tables = draw(st.dictionaries(_keys, st.dictionaries(_keys, _values, max_size=3), max_size=3))
    doc = tomlkit.document()
    for key, value in top.items():
        array = tomlkit.array()
        if isinstance(value, list):
            array.extend(value)
            array.multiline(draw(st.booleans()))
        doc[key] = array if isinstance(value, list) else value
    for name, body in tables.items():
        if name in doc:
            continue
        if draw(st.booleans()):
            doc.add(tomlkit.nl())
            doc.add(tomlkit.comment(f"introduces [{name}]"))
        table = tomlkit.table()
        for key, value in body.items():
            table[key] = value
        doc[name] = table
    text = doc.as_string()
    return text, tomllib.loads(text)


@settings(max_examples=150, deadline=None)
@given(_documents(), _keys, _values, st.data())
def test_setting_any_new_key_keeps_every_other_value(
    document: tuple[str, dict[str, Any]], key: str, value: Any, data: st.DataObject
) -> None:
    text, before = document
    tables = [name for name, item in before.items() if isinstance(item, dict)]
    table = data.draw(st.sampled_from([(), *[(name,) for name in tables]]))
    container = before if not table else before[table[0]]
    if key in container:
        return
    after, previous = set_in_text(text, (*table, key), value)
    assert previous is None
    assert tomllib.loads(after) == _with(before, (*table, key), value)
    # Everything the user wrote is still there, in order: only one line was added.
    added = [line for line in after.split("\n") if line not in text.split("\n")]
    assert len(after.split("\n")) - len(text.split("\n")) in (1, 2)
    assert all(line.startswith(f"{key} = ") or line == "" for line in added)


def _with(data: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    import copy

    result = copy.deepcopy(data)
    here = result
    for key in path[:-1]:
        here = here.setdefault(key, {})
    here[path[-1]] = value
    return result
