"""A scripted model for long sessions, answering each request from what it reads.

``LongSessionModel`` is a ``MockModelServer.responder`` speaking the Responses API. It asks for
``commands`` shell commands, one per request, each printing about ``output_bytes``; when the
request ends with codex's summary prompt it writes a summary; when all commands ran it answers.
Usage is computed from the request the way a provider bills it: input tokens at 4 bytes per
token of the body, cached tokens as the prefix shared with the previous request (in whole
128-token blocks, as OpenAI's prompt cache counts them). A request larger than ``window`` gets
the provider's refusal (HTTP 400, ``context_length_exceeded``) and is counted, so a session
that never sees one stayed under the window. ``refuse_request=N`` refuses request N (1-based)
once with a ``response.failed`` event instead, as a provider whose count differs from ours.

The benchmark (benchmarks/long_session.py) and the long-session tests share it::

    model = LongSessionModel(window=8_000, commands=20)
    mock_model.responder = model
    run_codex("exec", ...)
    assert model.over_window == 0 and model.summaries >= 1
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from tests.mock_model import Call, RecordedRequest, Reply, Text, responses_frames, sse_body

# The opening words of codex.compaction.SUMMARY_PROMPT: how the model knows a summary request.
SUMMARY_REQUEST_MARK = "Context is running out"
BYTES_PER_TOKEN = 4
CACHE_BLOCK_TOKENS = 128


def seq_count(output_bytes: int) -> int:
    """N such that ``seq 1 N`` prints about ``output_bytes`` bytes."""
    total, number = 0, 0
    while total < output_bytes:
        number += 1
        total += len(str(number)) + 1
    return number


@dataclass
class LongSessionModel:
    """The scripted model and what it observed (see the module's docstring)."""

    window: int
    commands: int
    output_bytes: int = 20_000
    refuse_request: int | None = None
    # A model that answers the summary request with a tool call instead of text.
    summary_by_call: bool = False
    requests: int = 0
    calls_made: int = 0
    summaries: int = 0
    # The 1-based numbers of the requests that asked for a summary.
    summary_requests: list[int] = field(default_factory=list)
    peak_tokens: int = 0
    over_window: int = 0
    refused: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    _previous: bytes = b""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: RecordedRequest) -> Reply:
        with self._lock:
            return self._answer(request)

    def _answer(self, request: RecordedRequest) -> Reply:
        self.requests += 1
        body = request.body
        tokens = len(body) // BYTES_PER_TOKEN
        if tokens > self.window:
            self.over_window += 1
            return _refusal_status(tokens, self.window)
        if self.refuse_request == self.requests:
            self.refused += 1
            return sse_body(_refusal_event(tokens, self.window))
        self.peak_tokens = max(self.peak_tokens, tokens)
        shared = _shared_prefix(self._previous, body) // BYTES_PER_TOKEN
        cached = shared // CACHE_BLOCK_TOKENS * CACHE_BLOCK_TOKENS
        self._previous = body
        data = json.loads(body)
        last = data["input"][-1] if data.get("input") else {}
        parts = last.get("content") or [] if last.get("type") == "message" else []
        last_text = "".join(part.get("text", "") for part in parts)
        if last_text.startswith(SUMMARY_REQUEST_MARK):
            self.summaries += 1
            self.summary_requests.append(self.requests)
            part: Text | Call = Text(
                f"SUMMARY {self.summaries}: the task is to run {self.commands} numbered commands; "
                f"{self.calls_made} ran so far, each printed the numbers from 1 up; go on with the next."
            )
            if self.summary_by_call:
                part = Call("shell", {"command": ["true"]}, call_id=f"summary_call_{self.summaries}")
        elif self.calls_made < self.commands:
            self.calls_made += 1
            command = ["seq", "1", str(seq_count(self.output_bytes))]
            part = Call("shell", {"command": command}, call_id=f"call_{self.calls_made}")
        else:
            part = Text(f"done: all {self.commands} commands ran")
        answer = part.text if isinstance(part, Text) else part.arguments_text()
        output = len(answer) // BYTES_PER_TOKEN + 8
        self.input_tokens += tokens
        self.cached_tokens += cached
        self.output_tokens += output
        usage = {
            "input_tokens": tokens,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": tokens + output,
        }
        return sse_body(responses_frames([part], response_id=f"resp_{self.requests}", usage=usage))


def _shared_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix of ``a`` and ``b`` (bisection over slices: fast for large bodies)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _refusal_message(tokens: int, window: int) -> str:
    return (
        f"Your input exceeds the context window of this model ({tokens} tokens; the window is {window}). "
        "Please adjust your input and try again."
    )


def _refusal_status(tokens: int, window: int) -> Reply:
    error = {"message": _refusal_message(tokens, window), "type": "invalid_request_error",
             "param": "input", "code": "context_length_exceeded"}
    body = json.dumps({"error": error}).encode()
    return Reply(status=400, headers=[("Content-Type", "application/json")], body=body, stream=False)


def _refusal_event(tokens: int, window: int) -> list[tuple[str | None, str]]:
    failed = {
        "type": "response.failed",
        "response": {"id": "resp_failed", "status": "failed",
                     "error": {"code": "context_length_exceeded", "message": _refusal_message(tokens, window)}},
    }
    created = {"type": "response.created", "response": {"id": "resp_failed", "status": "in_progress"}}
    return [("response.created", json.dumps(created)), ("response.failed", json.dumps(failed))]
