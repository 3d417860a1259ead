"""How codex reads a JSON Schema (``codex.json_schema``), through the three places that use one.

Tool parameters (a plugin's, or an MCP server's: untrusted), ``[plugins.<name>]`` tables and
``exec --output-schema`` share one way of building a validator. A schema that points outside
itself (``http://``, ``file://``) is refused with a message saying so, and nothing is fetched:
a real HTTP server on 127.0.0.1 that would serve the referenced schema records every request.
Every draft MCP servers send keeps working, ``$ref`` and ``oneOf`` included, and ``"format"``
stays an annotation.
"""

from __future__ import annotations

import datetime
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex.config.plugin_tables import check_plugin_tables
from codex.errors import UsageError
from codex.output_schema import answer_problem, load_output_schema
from codex.tools.base import Tool
from tests.test_tools_as_data import _echo, dispatch


class SchemaServer:
    """An HTTP server on 127.0.0.1 that would serve ``{"type": "string"}`` at any path, and
    records each request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = json.dumps({"type": "string"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/schema+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def schema_server() -> Iterator[SchemaServer]:
    server = SchemaServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    thread.join(timeout=5)


def outside_references(server: SchemaServer, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Schemas whose property ``a`` would be a string if codex fetched what they point at."""
    (tmp_path / "string.json").write_text(json.dumps({"type": "string"}))
    return {
        "http $ref": {"type": "object", "properties": {"a": {"$ref": f"{server.url}/string.json"}}},
        "relative $ref under an http $id": {
            "$id": f"{server.url}/root.json", "type": "object", "properties": {"a": {"$ref": "string.json"}},
        },
        "file $ref": {"type": "object", "properties": {"a": {"$ref": (tmp_path / "string.json").as_uri()}}},
        "http $schema": {"$schema": f"{server.url}/meta.json", "type": "object"},
    }


KINDS = ["http $ref", "relative $ref under an http $id", "file $ref", "http $schema"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_tool_schema_pointing_outside_itself_is_refused_and_nothing_is_fetched(
    kind: str, schema_server: SchemaServer, tmp_path: Path
) -> None:
    schema = outside_references(schema_server, tmp_path)[kind]

    result, _ = dispatch(Tool("t", "d", schema, _echo), {"a": 1}, owner="mcp-server")

    assert not result.success
    assert result.output.startswith(
        "error: tool 't' (plugin 'mcp-server') cannot be called: its parameters are not a valid JSON Schema ("
    ), result.output
    if kind != "http $schema":
        assert "codex follows references within the schema only, and fetches none" in result.output
    assert schema_server.requests == []


@pytest.mark.parametrize("kind", KINDS)
def test_an_output_schema_pointing_outside_itself_is_a_usage_error_and_nothing_is_fetched(
    kind: str, schema_server: SchemaServer, tmp_path: Path
) -> None:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(outside_references(schema_server, tmp_path)[kind]))

    with pytest.raises(UsageError, match=r"--output-schema .*schema\.json: not a valid JSON Schema at \$: "):
        load_output_schema(path)
    assert schema_server.requests == []


def test_a_plugin_table_schema_pointing_outside_itself_is_an_error_and_nothing_is_fetched(
    schema_server: SchemaServer, tmp_path: Path
) -> None:
    schema = outside_references(schema_server, tmp_path)["http $ref"]

    checked, _shown, errors = check_plugin_tables({"remote": {"a": 1}}, {"remote": schema}, lambda loc: "config.toml")

    assert checked == {}
    [error] = errors
    assert error.startswith(
        "config.toml: [plugins.remote]: the plugin's JSON Schema for this table is not valid (at #: "
    ), error
    assert "the plugin's author must fix its codex_config_schema" in error
    assert schema_server.requests == []


def test_a_schema_that_is_not_json_schema_is_refused_naming_where_in_it() -> None:
    broken = {"type": "object", "properties": {"n": {"type": "integer", "pattern": "(unclosed"}}}

    result, _ = dispatch(Tool("t", "d", broken, _echo), {"n": 1}, owner="acme")
    _checked, _shown, errors = check_plugin_tables({"acme": {"n": 1}}, {"acme": broken}, lambda loc: "config.toml")

    # The bad regular expression is found while the validator is built, before any call is checked.
    assert result.output.startswith(
        "error: tool 't' (plugin 'acme') cannot be called: its parameters are not a valid JSON Schema "
        '(properties.n.pattern: "(unclosed" is not a "regex")'
    ), result.output
    assert errors[0].startswith(
        "config.toml: [plugins.acme]: the plugin's JSON Schema for this table is not valid "
        '(at #/properties/n/pattern: "(unclosed" is not a "regex")'
    ), errors


# Every draft an MCP server may declare, each with a reference to a definition and a oneOf.
DRAFTS = {
    "draft-04": ("http://json-schema.org/draft-04/schema#", "definitions"),
    "draft-06": ("http://json-schema.org/draft-06/schema#", "definitions"),
    "draft-07": ("http://json-schema.org/draft-07/schema#", "definitions"),
    "2019-09": ("https://json-schema.org/draft/2019-09/schema", "$defs"),
    "2020-12": ("https://json-schema.org/draft/2020-12/schema", "$defs"),
    "no $schema": (None, "$defs"),
}


@pytest.mark.parametrize("draft", DRAFTS)
def test_every_draft_checks_references_and_one_of_with_the_usual_messages(draft: str) -> None:
    uri, definitions = DRAFTS[draft]
    schema: dict[str, Any] = {
        "type": "object",
        definitions: {"Tag": {"type": "object", "properties": {"n": {"type": "integer"}},
                              "additionalProperties": False}},
        "properties": {
            "tags": {"type": "array", "items": {"$ref": f"#/{definitions}/Tag"}},
            "size": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "minLength": 1}]},
            # A format the value does not have: an annotation, so it is not refused for it.
            "contact": {"type": "string", "format": "email"},
        },
    }
    if uri is not None:
        schema["$schema"] = uri
    tool = Tool("t", "d", schema, _echo)

    assert dispatch(tool, {"tags": [{"n": 1}], "size": 2, "contact": "not an address"})[0].success
    bad = dispatch(tool, {"tags": [{"n": "x", "z": 1}], "size": 0})[0]
    assert bad.output.startswith(
        "error: invalid arguments for t: size: expected a value at least 1; got 0; "
        'tags[0].z: unknown property (known: n); tags[0].n: expected an integer; got "x". Fix them'
    ), bad.output
    wrong_type = dispatch(tool, {"size": 1.5})[0]
    assert "size: expected an integer (at least 1) or a string; got 1.5" in wrong_type.output


def test_a_toml_date_in_a_json_schema_table_is_named_with_what_to_do() -> None:
    schema = {"type": "object", "properties": {"since": {"type": "string"}}}

    checked, _shown, errors = check_plugin_tables(
        {"history": {"since": datetime.date(2024, 5, 1)}}, {"history": schema}, lambda loc: "config.toml"
    )

    assert checked == {}
    assert errors == [
        "config.toml: plugins.history.since: expected JSON data (a string, number, boolean, array or table); "
        "got a TOML date or time; quote it to make it a string"
    ]


def test_arguments_of_str_subclasses_are_checked_as_their_json_form() -> None:
    # jsonschema-rs refuses Python types other than JSON's own; a plugin that rewrites arguments
    # may hand back such values (a str subclass here), which are checked as the strings they are.
    class Name(str):
        pass

    from codex.tools.validation import ArgumentValidator

    validator = ArgumentValidator(
        {"type": "object", "properties": {"path": {"type": "string"}, "n": {"type": "integer"}}}
    )
    assert validator.problems({"path": Name("a.txt")}) == []
    assert validator.problems({"path": Name("a.txt"), "n": Name("3")}) == ['n: expected an integer; got "3"']


def test_an_answer_is_checked_against_the_output_schema_with_its_location(tmp_path: Path) -> None:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({
        "type": "object", "required": ["colour"],
        "properties": {"sizes": {"type": "array", "items": {"type": "integer"}}},
    }))
    schema = load_output_schema(path)

    assert answer_problem(schema, '{"colour": "red", "sizes": [1]}') is None
    assert answer_problem(schema, '{"sizes": [1, "two"]}') == (
        'at $: "colour" is a required property; at $/sizes/1: "two" is not of type "integer"'
    )
