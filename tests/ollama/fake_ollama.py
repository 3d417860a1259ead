"""A fake Ollama server on a real loopback socket, plus a fake ``ollama`` executable.

It answers what codex asks a real Ollama, in the shapes Ollama documents:

- ``GET /api/version`` -> ``{"version": "0.12.3"}``; ``GET /api/tags`` -> installed models;
- ``POST /api/pull`` (NDJSON progress for each layer of the model, ``verifying sha256
  digest``, ``writing manifest``, ``success``), with failure variants that answer HTTP 200 and
  put ``{"error": ...}`` inside the stream (``pull_error``), and an unknown model;
- ``POST /api/chat`` streamed as NDJSON (``message.content``, ``message.thinking``,
  ``message.tool_calls`` with object arguments, a final ``done`` line with token counts);
- ``POST /v1/chat/completions`` streamed as SSE (``delta.content``, ``delta.reasoning``,
  ``delta.tool_calls``), and ``GET /v1/models``.

Answers to chat requests are scripted in order (``answer``, ``call``); every request is
recorded. ``flavor="openai"`` makes it an LM Studio look-alike (no ``/api``).

Run as a program (``python fake_ollama.py serve``) it listens on ``OLLAMA_HOST`` until
terminated, which is what the fake ``ollama`` executable from ``write_fake_ollama`` does.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

GPT_OSS_LAYERS = (2_400_000, 600_000)  # bytes of the two layers of the fake gpt-oss:20b
DISK_FULL = "write /root/.ollama/models/blobs/sha256-e7b2-partial-2: no space left on device"
NO_NETWORK = (
    'pull model manifest: Get "https://registry.ollama.ai/v2/library/gpt-oss/manifests/20b": '
    "dial tcp: lookup registry.ollama.ai: no such host"
)


@dataclass
class ChatReply:
    """One scripted model answer: reasoning, text, and tool calls (name, arguments)."""

    text: str = ""
    thinking: str = ""
    calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    error: str | None = None

    @staticmethod
    def pieces(text: str) -> list[str]:
        """``text`` as a model streams it: word by word, each with its leading space."""
        if not text:
            return []
        words = text.split(" ")
        return [words[0]] + [" " + word for word in words[1:]]


@dataclass
class Recorded:
    """A request the fake received."""

    method: str
    path: str
    body: Any

    @property
    def json(self) -> Any:
        return self.body


class FakeOllama:
    """The server; use as a context manager or ``start()`` / ``stop()``::

    with FakeOllama(installed=["gpt-oss:20b"]) as fake:
        fake.answer("hello", thinking="the user greets me")
        ...  # point the oss provider at fake.base_url
        assert fake.chat_requests()[0]["options"]["num_ctx"] == 32768
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        installed: list[str] | tuple[str, ...] = (),
        version: str = "0.12.3",
        flavor: str = "ollama",
    ) -> None:
        self.version = version
        self.flavor = flavor
        self.installed: list[str] = list(installed)
        self.library: dict[str, tuple[int, ...]] = {"gpt-oss:20b": GPT_OSS_LAYERS, "gpt-oss:120b": (9_000_000, 1_000)}
        self.pull_error: str | None = None
        self.pull_delay = 0.0
        self.replies: deque[ChatReply] = deque()
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- addresses

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    # ---------------------------------------------------------------- script

    def answer(self, text: str, *, thinking: str = "") -> None:
        """The next chat request gets ``text`` (after ``thinking``)."""
        self.replies.append(ChatReply(text=text, thinking=thinking))

    def call(self, name: str, arguments: dict[str, Any] | str, *, thinking: str = "", text: str = "") -> None:
        """The next chat request gets a tool call (arguments as an object, or a raw string)."""
        self.replies.append(ChatReply(text=text, thinking=thinking, calls=[(name, arguments)]))

    def fail_chat(self, message: str) -> None:
        """The next chat request gets ``{"error": message}`` inside a 200 stream."""
        self.replies.append(ChatReply(error=message))

    def chat_requests(self) -> list[Any]:
        """Bodies of the /api/chat and /v1/chat/completions requests, in order."""
        return [r.body for r in self.requests if r.path.endswith("/chat") or r.path.endswith("/chat/completions")]

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests]

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeOllama:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-ollama", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, method: str, path: str, body: Any) -> None:
        with self._lock:
            self.requests.append(Recorded(method, path, body))

    def next_reply(self) -> ChatReply:
        with self._lock:
            return self.replies.popleft() if self.replies else ChatReply(text="(the fake has no scripted answer left)")


def _handler_for(fake: FakeOllama) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        # ------------------------------------------------------------ plumbing

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw) if raw else None
            except ValueError:
                return raw.decode("utf-8", "replace")

        def _json(self, status: int, value: Any) -> None:
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _start_stream(self, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _end_stream(self) -> None:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _line(self, value: Any) -> None:
            self._chunk(json.dumps(value).encode() + b"\n")

        # ------------------------------------------------------------ routes

        def do_GET(self) -> None:
            fake.record("GET", self.path, None)
            if self.path == "/api/version" and fake.flavor == "ollama":
                self._json(200, {"version": fake.version})
            elif self.path == "/api/tags" and fake.flavor == "ollama":
                models = [
                    {"name": m, "model": m, "modified_at": "2025-08-05T10:00:00Z",
                     "size": sum(fake.library.get(m, (1,))), "digest": f"{index:064x}",
                     "details": {"format": "gguf", "family": "gptoss"}}
                    for index, m in enumerate(fake.installed)
                ]
                self._json(200, {"models": models})
            elif self.path == "/v1/models":
                self._json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in fake.installed]})
            else:
                self._json(404, {"error": f"404 page not found: {self.path}"})

        def do_POST(self) -> None:
            body = self._body()
            fake.record("POST", self.path, body)
            try:
                if self.path == "/api/pull" and fake.flavor == "ollama":
                    self._pull(body or {})
                elif self.path == "/api/chat" and fake.flavor == "ollama":
                    self._chat_native(body or {})
                elif self.path == "/v1/chat/completions":
                    self._chat_openai(body or {})
                else:
                    self._json(404, {"error": f"404 page not found: {self.path}"})
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _pull(self, body: dict[str, Any]) -> None:
            model = str(body.get("model") or body.get("name") or "")
            self._start_stream("application/x-ndjson")
            self._line({"status": "pulling manifest"})
            layers = fake.library.get(model) or fake.library.get(model + ":latest")
            if layers is None:
                self._line({"error": "pull model manifest: file does not exist"})
                self._end_stream()
                return
            if fake.pull_error == NO_NETWORK:
                self._line({"error": NO_NETWORK})
                self._end_stream()
                return
            for index, size in enumerate(layers):
                digest = f"sha256:{index:02d}" + "e7b273f96360" * 5
                status = f"pulling {digest[7:19]}"
                steps = 4
                for step in range(steps + 1):
                    self._line({"status": status, "digest": digest, "total": size, "completed": size * step // steps})
                    if fake.pull_delay:
                        time.sleep(fake.pull_delay)
                    if fake.pull_error and index == 1 and step == 1:
                        self._line({"error": fake.pull_error})
                        self._end_stream()
                        return
            for status in ("verifying sha256 digest", "writing manifest", "success"):
                self._line({"status": status})
            with fake._lock:
                if model not in fake.installed:
                    fake.installed.append(model)
            self._end_stream()

        def _chat_native(self, body: dict[str, Any]) -> None:
            reply = fake.next_reply()
            model = body.get("model", "")
            if not any(m == model for m in fake.installed):
                self._json(404, {"error": f'model "{model}" not found, try pulling it first'})
                return
            self._start_stream("application/x-ndjson")
            stamp = "2025-08-05T10:00:00.000000Z"

            def line(message: dict[str, Any], done: bool = False, **extra: Any) -> None:
                self._line({"model": model, "created_at": stamp, "message": {"role": "assistant", **message},
                            "done": done, **extra})

            if reply.error:
                self._line({"error": reply.error})
                self._end_stream()
                return
            for piece in reply.pieces(reply.thinking):
                line({"content": "", "thinking": piece})
            for piece in reply.pieces(reply.text):
                line({"content": piece})
            if reply.calls:
                calls = [{"function": {"index": i, "name": name, "arguments": args}}
                         for i, (name, args) in enumerate(reply.calls)]
                line({"content": "", "tool_calls": calls})
            line({"content": ""}, True, done_reason="stop", total_duration=1_000_000, load_duration=1000,
                 prompt_eval_count=1200, prompt_eval_cached_count=1024, prompt_eval_duration=1000, eval_count=42,
                 eval_duration=1000)
            self._end_stream()

        def _chat_openai(self, body: dict[str, Any]) -> None:
            reply = fake.next_reply()
            self._start_stream("text/event-stream")

            def event(delta: dict[str, Any], finish: str | None = None) -> None:
                chunk = {"id": "chatcmpl-7", "object": "chat.completion.chunk", "created": 1754388000,
                         "model": body.get("model"), "system_fingerprint": "fp_ollama",
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())

            if reply.error:
                self._chunk(f"data: {json.dumps({'error': {'message': reply.error}})}\n\n".encode())
                self._end_stream()
                return
            for piece in reply.pieces(reply.thinking):
                event({"role": "assistant", "content": "", "reasoning": piece})
            for piece in reply.pieces(reply.text):
                event({"role": "assistant", "content": piece})
            for index, (name, args) in enumerate(reply.calls):
                text = args if isinstance(args, str) else json.dumps(args)
                event({"role": "assistant", "tool_calls": [
                    {"index": index, "id": f"call_{index}", "type": "function",
                     "function": {"name": name, "arguments": text}}]})
            event({}, "tool_calls" if reply.calls else "stop")
            self._chunk(b"data: [DONE]\n\n")
            self._end_stream()

    return Handler


# ------------------------------------------------------------------------- the executable


def write_fake_ollama(directory: Path) -> Path:
    """Write an executable ``ollama`` script into ``directory`` (to put on PATH); its path.

    ``ollama serve`` runs ``serve()`` below with the interpreter running the tests.
    """
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "ollama"
    here = str(Path(__file__).resolve().parent)
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.path.insert(0, {here!r})\n"
        "from fake_ollama import main\n"
        "sys.exit(main(sys.argv[1:]))\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def serve(env: dict[str, str]) -> int:
    """``ollama serve``: listen on ``OLLAMA_HOST`` until SIGTERM.

    ``FAKE_OLLAMA_MODELS`` lists installed models, ``FAKE_OLLAMA_PIDFILE`` receives the pid,
    ``FAKE_OLLAMA_START_DELAY`` delays listening, ``FAKE_OLLAMA_CRASH`` exits at once.
    """
    host_port = env.get("OLLAMA_HOST", "127.0.0.1:11434")
    host, _, port = host_port.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if host == "localhost":
        host = "127.0.0.1"
    print(f"fake ollama serve: OLLAMA_HOST={host_port} OLLAMA_CONTEXT_LENGTH={env.get('OLLAMA_CONTEXT_LENGTH', '')}",
          flush=True)
    pidfile = env.get("FAKE_OLLAMA_PIDFILE")
    if pidfile:
        Path(pidfile).write_text(str(os.getpid()), encoding="utf-8")
    if env.get("FAKE_OLLAMA_CRASH"):
        print(f"Error: listen tcp {host_port}: bind: address already in use", flush=True)
        return 1
    time.sleep(float(env.get("FAKE_OLLAMA_START_DELAY") or 0))
    installed = [m for m in env.get("FAKE_OLLAMA_MODELS", "").split(",") if m]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with FakeOllama(host=host, port=int(port), installed=installed):
        print(f"Listening on {host}:{port} (version fake)", flush=True)
        stop.wait(float(env.get("FAKE_OLLAMA_LIFETIME") or 120))
    return 0


def main(argv: list[str]) -> int:
    """The fake ``ollama`` command line: only ``serve`` and ``--version``."""
    if argv[:1] == ["serve"]:
        return serve(dict(os.environ))
    if argv[:1] in (["--version"], ["-v"]):
        print("ollama version is 0.12.3 (fake)")
        return 0
    print(f"fake ollama: unsupported arguments {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
