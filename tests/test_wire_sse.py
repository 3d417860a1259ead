"""SSE framing: codex.http.SSEDecoder on the edge cases, against httpx2's own parser, and over a socket."""

from __future__ import annotations

import asyncio
import itertools
import json

import httpx2
from codex_openai.chat import ChatCompletionsApi
from codex_openai.responses import ResponsesApi
from hypothesis import given, settings
from hypothesis import strategies as st

from codex.config.model import ModelProviderInfo
from codex.http import SSEDecoder
from codex.protocol import Message, Prompt
from tests.mock_model import MockModelServer, Text, mock_model, responses_frames, run_turn  # noqa: F401


def feed_all(chunks: list[bytes]) -> list[tuple[str, str]]:
    decoder = SSEDecoder()
    events: list[tuple[str, str]] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    return events


def every_split(body: bytes) -> list[list[bytes]]:
    """The body cut in two at every byte position, and one byte at a time."""
    cuts = [[body[:i], body[i:]] for i in range(len(body) + 1)]
    return [*cuts, [body[i : i + 1] for i in range(len(body))]]


def test_event_name_and_data() -> None:
    body = b'event: response.created\ndata: {"a": 1}\n\n'
    assert feed_all([body]) == [("response.created", '{"a": 1}')]


def test_data_only_events_are_named_message() -> None:
    assert feed_all([b"data: one\n\ndata: two\n\n"]) == [("message", "one"), ("message", "two")]


def test_every_split_position_gives_the_same_events() -> None:
    body = 'event: delta\ndata: {"text": "héllo ✓ 🙂"}\n\ndata: [DONE]\n\n'.encode()
    expected = [("delta", '{"text": "héllo ✓ 🙂"}'), ("message", "[DONE]")]
    for chunks in every_split(body):
        assert feed_all(chunks) == expected, chunks


def test_split_inside_a_utf8_character() -> None:
    body = "data: 🙂\n\n".encode()
    inside = body.index("🙂".encode()) + 2
    assert feed_all([body[:inside], body[inside:]]) == [("message", "🙂")]


def test_crlf_and_lone_cr_line_endings() -> None:
    crlf = b"event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n"
    for chunks in every_split(crlf):
        assert feed_all(chunks) == [("a", "1"), ("b", "2")], chunks
    assert feed_all([b"data: x\r\rdata: y\r\r"]) == [("message", "x"), ("message", "y")]


def test_cr_lf_split_across_chunks_is_one_line_end() -> None:
    # A lone CR ends the line at once; the LF that follows in the next chunk must not be
    # taken for a blank line (which would dispatch a half-built event).
    assert feed_all([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [("message", "a\nb")]


def test_comments_keepalives_and_stray_blank_lines_are_skipped() -> None:
    body = b": keep-alive\n\n\n\n:another\ndata: x\n: inside\n\n\n: ping\n\n"
    for chunks in every_split(body):
        assert feed_all(chunks) == [("message", "x")], chunks


def test_multi_line_data_joins_with_newlines() -> None:
    assert feed_all([b"data: first\ndata:second\ndata\ndata:  two spaces\n\n"]) == [
        ("message", "first\nsecond\n\n two spaces")
    ]


def test_fields_other_than_event_and_data_are_ignored() -> None:
    body = b"id: 7\nretry: 100\nfoo: bar\nevent: e\ndata: d\n\n"
    assert feed_all([body]) == [("e", "d")]


def test_event_without_data_is_not_dispatched() -> None:
    assert feed_all([b"event: lonely\n\nevent: e\ndata: d\n\n"]) == [("e", "d")]


def test_unterminated_event_at_end_is_not_dispatched() -> None:
    assert feed_all([b"data: complete\n\ndata: cut off"]) == [("message", "complete")]


def test_byte_order_mark_is_dropped_even_when_split() -> None:
    body = b"\xef\xbb\xbfdata: x\n\n"
    for chunks in every_split(body):
        assert feed_all(chunks) == [("message", "x")], chunks


def reference_events(body: bytes) -> list[tuple[str, str]]:
    """httpx2's reading of the same body, through its public EventSource."""
    request = httpx2.Request("GET", "http://127.0.0.1/events")  # EventSource reports errors against it
    response = httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body, request=request)
    return [(sse.event, sse.data) for sse in httpx2.EventSource(response)]


field_values = st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=12)
any_line = st.one_of(
    st.builds(lambda v: f"data: {v}", field_values),
    st.builds(lambda v: f"data:{v}", field_values),
    st.builds(lambda v: f"event: {v}", field_values),
    st.builds(lambda v: f": {v}", field_values),
    st.just("retry: 10"),
    st.just(""),
)


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(any_line, max_size=12),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
)
def test_agrees_with_httpx2_on_random_streams(lines: list[str], newline: str, cuts: list[int]) -> None:
    body = (newline.join(lines) + newline + newline).encode()
    bounds = sorted({0, len(body), *(c for c in cuts if c < len(body))})
    chunks = [body[a:b] for a, b in itertools.pairwise(bounds)]
    # httpx2 cannot tell "no data line" from "an empty data line" (it dispatches both),
    # so only events with data are compared; the difference has its own test above.
    assert [e for e in feed_all(chunks) if e[1]] == [e for e in reference_events(body) if e[1]]


def test_an_empty_data_line_is_an_event_with_empty_data() -> None:
    assert feed_all([b"data:\n\n"]) == [("message", "")]


def test_events_split_across_tcp_writes_reach_both_wires(mock_model: MockModelServer) -> None:
    """A real socket: writes cut inside ``data:`` and inside a UTF-8 character."""
    answer = "naïve ✓ 🙂 done"
    provider = ModelProviderInfo(id="mock", **mock_model.provider_info())
    reply = mock_model.responses_turn(Text(answer))
    body = reply.body
    data_at = body.index(b"data:") + 2
    emoji_at = body.index("🙂".encode()) + 1
    check_at = body.index("✓".encode()) + 2
    reply.split_at = sorted({data_at, emoji_at, check_at, len(body) // 2})
    prompt = Prompt(model="gpt-4.1", instructions="", input=[Message("user", "hi")])
    turn = asyncio.run(run_turn(ResponsesApi(), prompt, provider))
    assert turn.text == answer
    assert turn.messages == [answer]

    chat_provider = ModelProviderInfo(id="mock", **mock_model.provider_info("chat"))
    reply = mock_model.chat_text(answer, crlf=True, keepalive=True)
    reply.split_at = list(range(1, len(reply.body), 23))
    turn = asyncio.run(run_turn(ChatCompletionsApi(), prompt, chat_provider))
    assert turn.text == answer
    assert turn.messages == [answer]


def test_crlf_and_keepalive_comments_over_a_socket(mock_model: MockModelServer) -> None:
    provider = ModelProviderInfo(id="mock", **mock_model.provider_info())
    mock_model.responses_text("line endings do not matter", crlf=True, keepalive=True, split_at=[5, 77, 78, 300])
    prompt = Prompt(model="gpt-4.1", instructions="", input=[Message("user", "hi")])
    turn = asyncio.run(run_turn(ResponsesApi(), prompt, provider))
    assert turn.text == "line endings do not matter"
    assert turn.completed


def test_mock_frames_are_valid_json_events() -> None:
    frames = responses_frames([Text("a b")])
    assert frames[0][0] == "response.created"
    assert all(json.loads(data)["type"] == name for name, data in frames)
