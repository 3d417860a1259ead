"""``-c key.path=value`` parsing: TOML values with a plain-text fallback, dotted and quoted keys."""

from __future__ import annotations

import datetime
import tomllib
from typing import Any

import pytest

from codex.config.overrides import (
    format_key_path,
    format_value,
    nest,
    parse_key_path,
    parse_override,
    parse_overrides,
)
from codex.errors import ConfigError


@pytest.mark.parametrize(
    ("argument", "path", "value"),
    [
        # strings: bare text falls back to a string, TOML strings keep their quotes' meaning
        ("model=o3", ("model",), "o3"),
        ('model="o3"', ("model",), "o3"),
        ("model='o3'", ("model",), "o3"),
        ("model=gpt-5-codex", ("model",), "gpt-5-codex"),
        ("instructions=be brief", ("instructions",), "be brief"),
        ("model=", ("model",), ""),
        # numbers and booleans
        ("project_doc_max_bytes=4096", ("project_doc_max_bytes",), 4096),
        ("oss.context_window=8_192", ("oss", "context_window"), 8192),
        ("mcp_servers.s.startup_timeout_sec=2.5", ("mcp_servers", "s", "startup_timeout_sec"), 2.5),
        ("hide_agent_reasoning=true", ("hide_agent_reasoning",), True),
        ("hide_agent_reasoning=false", ("hide_agent_reasoning",), False),
        # arrays and inline tables
        ('notify=["notify-send", "codex"]', ("notify",), ["notify-send", "codex"]),
        ("sandbox_workspace_write.writable_roots=[]", ("sandbox_workspace_write", "writable_roots"), []),
        (
            'shell_environment_policy.set={PAGER = "cat", LANG = "C"}',
            ("shell_environment_policy", "set"),
            {"PAGER": "cat", "LANG": "C"},
        ),
        # dotted and quoted keys
        ("sandbox_workspace_write.network_access=true", ("sandbox_workspace_write", "network_access"), True),
        (
            'model_providers."my.host".base_url=http://10.0.0.2/v1',
            ("model_providers", "my.host", "base_url"),
            "http://10.0.0.2/v1",
        ),
        ("model_providers.'a b'.name=A", ("model_providers", "a b", "name"), "A"),
        (" model . name = spaced ", ("model", "name"), "spaced"),
        # values containing "=": only the first "=" separates key and value
        ("instructions=a=b", ("instructions",), "a=b"),
        ('notify=["x=1", "y==2"]', ("notify",), ["x=1", "y==2"]),
        ("model_providers.p.query_params={api-version = \"2025-01\"}",
         ("model_providers", "p", "query_params"), {"api-version": "2025-01"}),
        # text that is almost TOML stays a string rather than failing
        ("model=[unclosed", ("model",), "[unclosed"),
        ('model="half', ("model",), '"half'),
    ],
)
def test_override_parsing(argument: str, path: tuple[str, ...], value: Any) -> None:
    override = parse_override(argument)
    assert override.path == path
    assert override.value == value
    assert type(override.value) is type(value)
    assert override.where == f"-c {argument}"


def test_a_value_cannot_smuggle_in_a_second_key() -> None:
    override = parse_override('model=1\nsandbox_mode = "danger-full-access"')
    assert override.path == ("model",)
    assert override.value == '1\nsandbox_mode = "danger-full-access"'


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("model", "expected key.path=value"),
        ("=o3", "the key is empty"),
        ("a..b=1", "is not a valid key path"),
        ("a b=1", "is not a valid key path"),
        ("[table]=1", "is not a valid key path"),
        ("a\nb=1", "is not a valid key path"),
    ],
)
def test_bad_overrides_say_what_to_write(argument: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_override(argument)
    assert message in str(raised.value)
    assert argument.split("\n")[0] in str(raised.value)


def test_later_overrides_keep_their_order() -> None:
    parsed = parse_overrides(["model=a", "model=b"])
    assert [o.value for o in parsed] == ["a", "b"]


def test_nest_builds_tables_from_a_path() -> None:
    assert nest(("a", "b.c", "d"), 1) == {"a": {"b.c": {"d": 1}}}


@pytest.mark.parametrize("path", [("model",), ("model_providers", "my.host", "base_url"), ("a b", "é", "x-y_1")])
def test_key_paths_round_trip_through_their_text(path: tuple[str, ...]) -> None:
    assert parse_key_path(format_key_path(path)) == path


@pytest.mark.parametrize(
    "value",
    ["plain", 'quote " and \\ backslash\nnewline', 7, 2.5, True, [], ["a", 1], {"k": "v", "a b": [True]}, {},
     datetime.date(1979, 5, 27), datetime.time(7, 32), datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.UTC)],
)
def test_format_value_writes_toml_that_reads_back(value: Any) -> None:
    assert tomllib.loads(f"x = {format_value(value)}")["x"] == value
