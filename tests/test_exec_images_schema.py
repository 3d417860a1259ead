"""`codex exec -i FILE` and `--output-schema FILE`, end to end: the real CLI against the mock model.

What a script author observes: the request bodies (the image as a data: URL, the schema as
structured outputs, on both wires), stdout (only an answer that follows the schema), stderr
(clear errors naming the file) and the exit status.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunCodex
from tests.mock_model import MockModelServer, mock_model  # noqa: F401  (fixture)

SCHEMA = {
    "type": "object",
    "properties": {"colour": {"type": "string"}, "count": {"type": "integer"}},
    "required": ["colour", "count"],
    "additionalProperties": False,
}


def png(width: int = 2, height: int = 2) -> bytes:
    """A real, tiny red PNG."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 40 + b"\xff\xd9"


def configure(codex_home: Path, mock: MockModelServer, wire: str) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock.provider_toml("mock", wire, request_max_retries=0, stream_max_retries=0)
    )


def answer(mock: MockModelServer, wire: str, text: str) -> None:
    (mock.responses_text if wire == "responses" else mock.chat_text)(text)


def last_user_content(body: dict[str, Any], wire: str) -> Any:
    if wire == "responses":
        return [item for item in body["input"] if item.get("role") == "user"][-1]["content"]
    return [message for message in body["messages"] if message["role"] == "user"][-1]["content"]


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


# ------------------------------------------------------------------------------ -i / --image


@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_images_go_to_the_model_as_input_images(
    wire: str, mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model, wire)
    (git_workspace / "shot.png").write_bytes(png())
    (git_workspace / "photo.jpg").write_bytes(JPEG)
    answer(mock_model, wire, "A red square and a photo.")

    # -i twice, one of them comma-separated; the prompt after -i stays the prompt.
    result = run_codex("exec", "-i", "shot.png", "what is in these?", "-i", "photo.jpg", cwd=git_workspace)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "A red square and a photo.\n"
    content = last_user_content(mock_model.requests[0].json, wire)
    if wire == "responses":
        assert content == [
            {"type": "input_text", "text": "what is in these?"},
            {"type": "input_image", "image_url": data_url(png(), "image/png"), "detail": "auto"},
            {"type": "input_image", "image_url": data_url(JPEG, "image/jpeg"), "detail": "auto"},
        ]
    else:
        assert content == [
            {"type": "text", "text": "what is in these?"},
            {"type": "image_url", "image_url": {"url": data_url(png(), "image/png")}},
            {"type": "image_url", "image_url": {"url": data_url(JPEG, "image/jpeg")}},
        ]


def test_comma_separated_images_and_the_group_flag(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model, "responses")
    (git_workspace / "a.png").write_bytes(png(1, 1))
    (git_workspace / "b.png").write_bytes(png(3, 1))
    (git_workspace / "c.png").write_bytes(png(1, 3))
    answer(mock_model, "responses", "three")

    result = run_codex("-i", "c.png", "exec", "-i", "a.png,b.png", "count them", cwd=git_workspace)

    assert result.returncode == 0, result.stderr
    urls = [part["image_url"] for part in last_user_content(mock_model.requests[0].json, "responses")[1:]]
    assert urls == [data_url(png(1, 3), "image/png"), data_url(png(1, 1), "image/png"),
                    data_url(png(3, 1), "image/png")]
    # The transcript names them under the prompt, so a log shows what the model was given.
    echoed = result.stderr.split("count them\n", 1)[1].splitlines()[:3]
    assert echoed == ["[image: c.png]", "[image: a.png]", "[image: b.png]"], result.stderr


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.png", None, "-i/--image {path}: no such file"),
        ("notes.png", b"just some text, named like an image\n", "{path}: not an image codex can send"),
        ("folder", "dir", "{path}: is a directory, not an image file"),
    ],
)
def test_a_bad_image_is_a_usage_error_before_the_turn(
    name: str, content: bytes | str | None, expected: str,
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex,
) -> None:
    configure(codex_home, mock_model, "responses")
    path = git_workspace / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)

    result = run_codex("exec", "-i", name, "look", cwd=git_workspace)

    assert result.returncode == 2
    assert expected.format(path=path) in result.stderr
    assert mock_model.requests == []  # nothing was sent


def test_an_image_over_the_size_limit_is_refused_with_its_size(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model, "responses")
    big = git_workspace / "big.png"
    with big.open("wb") as handle:
        handle.write(png())
        handle.truncate(21 * 1024 * 1024)  # sparse: a real PNG header, 21 MiB long

    result = run_codex("exec", "-i", "big.png", "look", cwd=git_workspace)

    assert result.returncode == 2
    assert f"{big}: the image is 21.0 MiB, more than the 20.0 MiB a model accepts" in result.stderr
    assert mock_model.requests == []


def test_the_rollout_keeps_path_and_hash_not_the_bytes(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    import hashlib

    configure(codex_home, mock_model, "responses")
    image = png(40, 40)
    (git_workspace / "shot.png").write_bytes(image)
    answer(mock_model, "responses", "seen")

    assert run_codex("exec", "-i", "shot.png", "look", cwd=git_workspace).returncode == 0

    [rollout] = list((codex_home / "sessions").rglob("*.jsonl"))
    text = rollout.read_text()
    assert base64.b64encode(image).decode() not in text
    messages = [json.loads(line)["item"] for line in text.splitlines() if '"images"' in line]
    assert messages[0]["images"] == [{
        "path": str(git_workspace / "shot.png"), "mime_type": "image/png", "size": len(image),
        "sha256": hashlib.sha256(image).hexdigest(),
    }]


def test_resume_sends_the_image_again_or_says_it_is_gone(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model, "responses")
    (git_workspace / "shot.png").write_bytes(png())
    (git_workspace / "gone.png").write_bytes(png(5, 5))
    for text in ("first", "second", "third"):
        answer(mock_model, "responses", text)

    assert run_codex("exec", "-i", "shot.png,gone.png", "look", cwd=git_workspace).returncode == 0
    (git_workspace / "gone.png").write_bytes(png(6, 6))  # changed since: its hash no longer matches
    result = run_codex("exec", "resume", "--last", "again", cwd=git_workspace)

    assert result.returncode == 0, result.stderr
    assert "image " + str(git_workspace / "gone.png") + " changed since it was sent" in result.stderr
    content = last_user_content(mock_model.requests[1].json, "responses")
    first_message = [i for i in mock_model.requests[1].json["input"] if i.get("role") == "user"][-2]["content"]
    assert first_message[1] == {"type": "input_image", "image_url": data_url(png(), "image/png"), "detail": "auto"}
    assert first_message[2]["type"] == "input_text" and "gone.png is no longer available" in first_message[2]["text"]
    assert content == [{"type": "input_text", "text": "again"}]


# ------------------------------------------------------------------------------ --output-schema


@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_the_request_carries_the_schema_and_a_conforming_answer_is_printed(
    wire: str, mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model, wire)
    (git_workspace / "schema.json").write_text(json.dumps(SCHEMA))
    answer(mock_model, wire, '{"colour": "red", "count": 2}')

    result = run_codex("exec", "--output-schema", "schema.json", "describe it", cwd=git_workspace)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"colour": "red", "count": 2}
    body = mock_model.requests[0].json
    if wire == "responses":
        assert body["text"]["format"] == {
            "type": "json_schema", "name": "codex_output_schema", "schema": SCHEMA, "strict": True,
        }
    else:
        assert body["response_format"] == {
            "type": "json_schema",
            "json_schema": {"name": "codex_output_schema", "schema": SCHEMA, "strict": True},
        }


@pytest.mark.parametrize(
    ("answer_text", "problem"),
    [
        ('{"colour": "red"}', 'at $: "count" is a required property'),
        ('{"colour": "red", "count": "two"}', 'at $/count: "two" is not of type "integer"'),
        ("It is red.", "it is not JSON (Expecting value at line 1, column 1)"),
    ],
)
def test_an_answer_that_breaks_the_schema_fails_and_goes_to_stderr(
    answer_text: str, problem: str,
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex,
) -> None:
    configure(codex_home, mock_model, "chat")
    (git_workspace / "schema.json").write_text(json.dumps(SCHEMA))
    out = git_workspace / "last.txt"
    out.write_text("the answer of an earlier run\n")
    answer(mock_model, "chat", answer_text)

    result = run_codex("exec", "--output-schema", "schema.json", "-o", str(out), "describe it", cwd=git_workspace)

    assert result.returncode == 1
    assert result.stdout == ""
    assert f"error: the final answer does not follow the output schema: {problem}; the answer was:" in result.stderr
    assert answer_text in result.stderr.split("the answer was:", 1)[1]
    assert out.read_text() == ""  # not an earlier run's answer, which would pass for this one's


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "--output-schema {path}: no such file"),
        ('{\n  "type": "object",\n  "properties": {,\n}',
         "--output-schema {path}:3:18: not valid JSON: Expecting property name"),
        ("[1, 2]", "--output-schema {path}: a JSON Schema is an object"),
        ('{"type": "objekt"}', '--output-schema {path}: not a valid JSON Schema at $/type: "objekt" is not valid'),
    ],
)
def test_a_bad_schema_file_is_a_usage_error_before_the_turn(
    content: str | None, expected: str,
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex,
) -> None:
    configure(codex_home, mock_model, "responses")
    path = git_workspace / "schema.json"
    if content is not None:
        path.write_text(content)

    result = run_codex("exec", "--output-schema", str(path), "describe it", cwd=git_workspace)

    assert result.returncode == 2
    assert expected.format(path=path) in result.stderr
    assert mock_model.requests == []


# ------------------------------------------------------------------------------ the view_image tool


def tool_output(body: dict[str, Any], wire: str, call_id: str) -> str:
    if wire == "responses":
        return next(i["output"] for i in body["input"] if i.get("call_id") == call_id and "output" in i)
    return next(m["content"] for m in body["messages"] if m.get("tool_call_id") == call_id)


@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_view_image_attaches_the_file_to_the_next_request(
    wire: str, mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    from tests.mock_model import Call, Text

    configure(codex_home, mock_model, wire)
    (git_workspace / "ui").mkdir()
    (git_workspace / "ui" / "shot.png").write_bytes(png())
    turn = mock_model.responses_turn if wire == "responses" else mock_model.chat_turn
    turn(Call("view_image", {"path": "ui/shot.png"}, "call_1"))
    turn(Text("The button is red."))

    result = run_codex("exec", "what colour is the button in ui/shot.png?", cwd=git_workspace)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "The button is red.\n"
    first, second = (request.json for request in mock_model.requests)
    names = [t["name"] for t in first["tools"]] if wire == "responses" else [
        t["function"]["name"] for t in first["tools"]]
    assert "view_image" in names
    expected = f"Attached shot.png (image/png, {len(png())} bytes); it follows as an image."
    assert tool_output(second, wire, "call_1") == expected
    content = last_user_content(second, wire)
    if wire == "responses":
        assert second["input"][-1]["role"] == "user"  # right after the tool output
        assert content[1] == {"type": "input_image", "image_url": data_url(png(), "image/png"), "detail": "auto"}
    else:
        assert [m["role"] for m in second["messages"][-3:]] == ["assistant", "tool", "user"]
        assert content[1] == {"type": "image_url", "image_url": {"url": data_url(png(), "image/png")}}
    assert "view_image" in content[0]["text"] and "shot.png" in content[0]["text"]


def test_view_image_refuses_files_outside_the_workspace_and_non_images(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, tmp_path: Path, run_codex: RunCodex
) -> None:
    from tests.mock_model import Call

    configure(codex_home, mock_model, "responses")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.png").write_bytes(png())
    (git_workspace / "link.png").symlink_to(outside / "secret.png")
    (git_workspace / "notes.png").write_text("not an image\n")
    mock_model.responses_calls(
        Call("view_image", {"path": str(outside / "secret.png")}, "call_out"),
        Call("view_image", {"path": "link.png"}, "call_link"),
        Call("view_image", {"path": "notes.png"}, "call_text"),
        Call("view_image", {"path": "nowhere.png"}, "call_missing"),
    )
    mock_model.responses_text("none of them")

    # read-only: the readable area is the working directory alone (/tmp is no writable root here)
    result = run_codex("exec", "-s", "read-only", "look at them", cwd=git_workspace)

    assert result.returncode == 0, result.stderr
    second = mock_model.requests[1].json
    readable = f"outside the readable area ({git_workspace})"
    assert tool_output(second, "responses", "call_out") == (
        f"error: {outside / 'secret.png'}: {readable}; view_image reads files in the working directory "
        "and the writable roots only")
    assert readable in tool_output(second, "responses", "call_link")
    assert tool_output(second, "responses", "call_text").startswith(
        f"error: {git_workspace / 'notes.png'}: not an image codex can send (expected PNG, JPEG, GIF or WebP")
    assert tool_output(second, "responses", "call_missing") == f"error: {git_workspace / 'nowhere.png'}: no such file"
    assert not any(item.get("role") == "user" and len(item["content"]) > 1 for item in second["input"])


def test_the_peers_tools_table_switches_view_image_off_and_explains_web_search(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model, "responses")
    answer(mock_model, "responses", "first")
    answer(mock_model, "responses", "second")
    assert run_codex("exec", "hi", cwd=git_workspace).returncode == 0
    with (codex_home / "config.toml").open("a") as config:
        config.write("\n[tools]\nview_image = false\nweb_search = true\n")

    result = run_codex("exec", "hi", cwd=git_workspace)

    assert result.returncode == 0, result.stderr
    assert "unknown" not in result.stderr
    offered = [[tool.get("name") for tool in request.json["tools"]] for request in mock_model.requests]
    assert "view_image" in offered[0] and "view_image" not in offered[1]
    shown = run_codex("config", "show", cwd=git_workspace).stdout
    assert "tools.web_search" in shown.split("Accepted from the Rust CLI, not used here:", 1)[1]
