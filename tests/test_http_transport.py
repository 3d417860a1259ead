"""codex.http over httpx2, the one HTTP stack of codex, against real servers on 127.0.0.1.

Each test starts a scripted server in its own event loop (``ScriptedServer``: one handler call
per accepted connection, with helpers to read a request and to write bytes slowly, close, or
reset), sends requests through the seam every wire uses (``ClientCache`` + ``post_stream`` /
``post_sse``), and checks what a user sees: bodies, errors and their wording, and how many
connections and requests the server saw. Above all: a request is sent once per attempt; only
the retry policy of ``codex.wire`` ever sends it again.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import trustme

from codex.config.model import ModelProviderInfo
from codex.errors import ProviderError
from codex.http import ClientCache, post_sse, post_stream, request_headers
from codex.wire import RetryableError
from tests.mock_model import MockModelServer, mock_model  # noqa: F401  (fixture)

# Every scenario ends within this; a hang is a failure, not a stuck suite.
SCENARIO_LIMIT = 15.0
PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "NO_PROXY",
                   "no_proxy")


def run(scenario: Coroutine[Any, Any, Any]) -> Any:
    async def bounded() -> Any:
        async with asyncio.timeout(SCENARIO_LIMIT):
            return await scenario

    return asyncio.run(bounded())


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# ------------------------------------------------------------------------------ a scripted server


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


class Peer:
    """The server side of one accepted connection."""

    def __init__(self, server: ScriptedServer, number: int, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.number = number
        self.reader = reader
        self.writer = writer

    async def request(self) -> Request | None:
        """The next request, or None when the client closed the connection."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        request = Request(method, target, headers, body)
        self.server.requests.append(request)
        return request

    async def send(self, data: bytes, *, step: int = 0) -> None:
        """Write ``data``; with ``step``, ``step`` bytes per write with a pause between writes."""
        if not step:
            self.writer.write(data)
            await self.writer.drain()
            return
        for start in range(0, len(data), step):
            self.writer.write(data[start : start + step])
            await self.writer.drain()
            await asyncio.sleep(0.001)

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass

    def reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0), as a crashed or overloaded server does."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


Handler = Callable[[Peer], Awaitable[None]]


class ScriptedServer:
    """``async with ScriptedServer(handler) as server``: ``handler(peer)`` serves each connection."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.connections = 0
        self.requests: list[Request] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            await self.handler(Peer(self, self.connections, reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # cancelled: the server is shutting down, the normal end of a handler
        finally:
            self._tasks.discard(task)
            writer.close()


def response(body: bytes, *, framing: str = "length", status: str = "200 OK", version: str = "HTTP/1.1",
             headers: tuple[str, ...] = ()) -> bytes:
    """A whole response; ``framing`` is "length", "chunked" (a chunk per 7 bytes) or "eof"."""
    head = [f"{version} {status}", "Content-Type: text/plain", *headers]
    if framing == "length":
        head.append(f"Content-Length: {len(body)}")
        data = body
    elif framing == "chunked":
        head.append("Transfer-Encoding: chunked")
        pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
        data = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    else:
        data = body
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


def keep_serving(body: bytes = b"hello", **options: Any) -> Handler:
    """A handler answering every request on its connection with ``body``."""

    async def handler(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.send(response(body, **options))

    return handler


def provider_for(url: str, **fields: Any) -> ModelProviderInfo:
    return ModelProviderInfo(id="t", name="T", base_url=url, wire_api="responses", **fields)


async def fetch(cache: ClientCache, url: str, *, idle_ms: int = 5000, headers: dict[str, str] | None = None,
                content: bytes = b'{"q": 1}') -> bytes:
    """POST through the seam the wires use; the whole body of a 2xx answer."""
    provider = provider_for(url, stream_idle_timeout_ms=idle_ms)
    sent = {**request_headers(provider), **(headers or {})}
    return b"".join([piece async for piece in post_stream(cache.get(url), provider, url, sent, content)])


async def consume(client: Any, provider: ModelProviderInfo) -> list[tuple[str, str]]:
    return [event async for event in post_sse(client, provider, "responses", {"model": "m"})]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# ------------------------------------------------------------------------------ bodies and framing


@pytest.mark.parametrize("framing", ["length", "chunked", "eof"])
def test_body_framings(framing: str) -> None:
    body = b"the quick brown fox jumps over the lazy dog\n" * 50

    async def handler(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.send(response(body, framing=framing))
            if framing == "eof":
                await peer.close()
                return

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            cache = ClientCache()
            assert await fetch(cache, server.url("/v1/x")) == body
            assert await fetch(cache, server.url("/v1/x")) == body
            await cache.aclose()
            # A body that ends with the connection cannot leave it reusable.
            assert server.connections == (2 if framing == "eof" else 1)

    run(scenario())


def test_request_carries_host_length_and_identity() -> None:
    async def scenario() -> None:
        async with ScriptedServer(keep_serving()) as server:
            cache = ClientCache()
            await fetch(cache, server.url("/v1/responses?api-version=2"), content=b"{}",
                        headers={"Authorization": "Bearer k"})
            await cache.aclose()
            (post,) = server.requests
            assert (post.method, post.target, post.body) == ("POST", "/v1/responses?api-version=2", b"{}")
            assert post.headers["host"] == f"127.0.0.1:{server.port}"
            assert post.headers["content-length"] == "2"
            assert post.headers["authorization"] == "Bearer k"
            assert post.headers["user-agent"].startswith("codex-py/")

    run(scenario())


def test_a_gzip_answer_is_decoded() -> None:
    import gzip

    plain = b"data: {}\n\n" * 100

    async def handler(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.send(response(gzip.compress(plain), headers=("Content-Encoding: gzip",)))

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            cache = ClientCache()
            assert await fetch(cache, server.url()) == plain
            await cache.aclose()

    run(scenario())


def test_chunked_body_split_at_every_byte_streams() -> None:
    body = "data: {\"delta\": \"héllo\"}\n\n".encode() * 4
    # Chunk extensions and trailers are legal and must not leak into the body.
    data = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\ncontent-type: text/event-stream\r\n\r\n"
            + b"".join(b"%X;ext=1\r\n%s\r\n" % (len(body[i : i + 11]), body[i : i + 11])
                       for i in range(0, len(body), 11))
            + b"0\r\nX-Trailer: yes\r\n\r\n")

    async def handler(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.send(data, step=1)

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            cache = ClientCache()
            provider = provider_for(server.url())
            pieces = [piece async for piece in post_stream(cache.get(server.url()), provider, server.url(),
                                                           request_headers(provider), b"{}")]
            assert b"".join(pieces) == body
            assert len(pieces) > 1  # it streamed, it did not wait for the end
            assert await fetch(cache, server.url()) == body  # and the connection was reusable
            await cache.aclose()
            assert server.connections == 1

    run(scenario())


def test_an_error_status_is_explained_and_keeps_the_connection() -> None:
    error = json.dumps({"error": {"message": "no such model", "code": "model_not_found"}}).encode()

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(error, framing="chunked", status="404 Not Found"))
        await peer.request()
        await peer.send(response(b"fine"))
        await peer.request()

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            cache = ClientCache()
            with pytest.raises(ProviderError) as info:
                await fetch(cache, server.url())
            assert str(info.value) == "HTTP 404 Not Found from 'T': no such model"
            assert not isinstance(info.value, RetryableError)
            assert await fetch(cache, server.url()) == b"fine"
            await cache.aclose()
            assert server.connections == 1

    run(scenario())


def test_large_bodies_both_ways() -> None:
    upload = bytes(range(256)) * 20_000  # 5 MB: more than any socket buffer takes at once
    download = b"x" * 3_000_000

    async def handler(peer: Peer) -> None:
        request = await peer.request()
        assert request is not None
        await peer.send(response(download if request.body == upload else b"wrong upload"))

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            cache = ClientCache()
            assert await fetch(cache, server.url(), content=upload, idle_ms=10_000) == download
            await cache.aclose()

    run(scenario())


# ------------------------------------------------------------------------------ keep-alive


def test_keep_alive_reuses_one_connection() -> None:
    async def scenario() -> None:
        async with ScriptedServer(keep_serving(framing="chunked")) as server:
            cache = ClientCache()
            for _ in range(3):
                assert await fetch(cache, server.url()) == b"hello"
            await cache.aclose()
            assert (server.connections, len(server.requests)) == (1, 3)

    run(scenario())


@pytest.mark.parametrize(
    "options",
    [{"headers": ("Connection: close",)}, {"version": "HTTP/1.0"}],
    ids=["connection-close", "http-1.0"],
)
def test_connection_close_and_http10_are_not_reused(options: dict[str, Any]) -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(b"once", **options))
        await peer.request()  # a client that wrongly reuses the connection would be stuck here

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            cache = ClientCache()
            assert await fetch(cache, server.url()) == b"once"
            assert await fetch(cache, server.url()) == b"once"
            await cache.aclose()
            assert server.connections == 2

    run(scenario())


def test_server_closing_an_idle_connection_does_not_fail_the_next_request() -> None:
    closed = asyncio.Event()

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(b"first"))
        if peer.number == 1:
            await peer.close()  # the server's keep-alive timeout passed
            closed.set()
        else:
            await peer.request()

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            cache = ClientCache()
            assert await fetch(cache, server.url()) == b"first"
            await closed.wait()
            await asyncio.sleep(0.05)  # the close reaches the client while the connection idles
            assert await fetch(cache, server.url()) == b"first"
            await cache.aclose()
            assert (server.connections, len(server.requests)) == (2, 2)

    run(scenario())


@pytest.mark.parametrize("how", ["reset", "close"])
def test_a_request_the_server_read_is_never_sent_again_by_the_transport(how: str) -> None:
    """The server read the whole POST on a pooled connection, then died without answering: the
    request may have been acted on, so the transport reports the failure instead of re-sending;
    whether to try again is the retry policy's decision (it announces it)."""

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(b"answer"))
        if peer.number == 1:
            await peer.request()
            if how == "reset":
                peer.reset()
            else:
                await peer.close()
            return
        await peer.request()

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            cache = ClientCache()
            assert await fetch(cache, server.url()) == b"answer"
            with pytest.raises(RetryableError) as info:
                await fetch(cache, server.url())
            await cache.aclose()
            assert str(info.value).startswith("could not reach 'T' at ")
            assert (server.connections, len(server.requests)) == (1, 2)

    run(scenario())


def test_half_a_response_head_is_a_failed_attempt() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(b"answer"))
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Le")  # half a head, then gone
        await peer.close()

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            cache = ClientCache()
            await fetch(cache, server.url())
            with pytest.raises(RetryableError):
                await fetch(cache, server.url())
            await cache.aclose()
            assert (server.connections, len(server.requests)) == (1, 2)

    run(scenario())


def test_concurrent_requests_use_separate_connections_then_share_the_pool() -> None:
    async def scenario() -> None:
        async with ScriptedServer(keep_serving(framing="chunked")) as server:
            cache = ClientCache()
            results = await asyncio.gather(*(fetch(cache, server.url()) for _ in range(3)))
            assert results == [b"hello"] * 3
            assert server.connections == 3
            await asyncio.gather(*(fetch(cache, server.url()) for _ in range(3)))
            assert server.connections == 3
            await cache.aclose()

    run(scenario())


# ------------------------------------------------------------------------------ failures


def test_connection_refused() -> None:
    port = free_port()

    async def scenario() -> None:
        cache = ClientCache()
        with pytest.raises(RetryableError) as info:
            await fetch(cache, f"http://127.0.0.1:{port}/v1")
        assert str(info.value).startswith(f"could not reach 'T' at http://127.0.0.1:{port}/v1: ConnectError")
        assert not info.value.started
        await cache.aclose()

    run(scenario())


def test_idle_timeout_before_and_during_the_body() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        if peer.number == 2:
            await peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await peer.request()  # then silence

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            cache = ClientCache()
            url = server.url("/v1")
            with pytest.raises(RetryableError) as before:
                await fetch(cache, url, idle_ms=200)
            assert not before.value.started
            assert str(before.value).startswith(f"no answer from 'T' at {url} in time (ReadTimeout")
            provider = provider_for(url, stream_idle_timeout_ms=200)
            pieces = []
            with pytest.raises(RetryableError) as during:
                async for piece in post_stream(cache.get(url), provider, url, request_headers(provider), b"{}"):
                    pieces.append(piece)
            assert pieces == [b"hello"]
            assert during.value.started
            assert str(during.value) == "the stream from 'T' was idle for more than 0.2 s (stream_idle_timeout_ms)"
            await cache.aclose()

    run(scenario())


def test_malformed_answers_are_failed_attempts() -> None:
    answers = [b"SSH-2.0-OpenSSH_9.6\r\n\r\n", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(answers[peer.number - 1])
        await peer.request()

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            cache = ClientCache()
            with pytest.raises(RetryableError, match="RemoteProtocolError"):
                await fetch(cache, server.url())
            with pytest.raises(RetryableError, match="RemoteProtocolError"):
                await fetch(cache, server.url())
            await cache.aclose()

    run(scenario())


def test_a_header_with_a_line_break_never_reaches_the_server() -> None:
    async def scenario() -> None:
        async with ScriptedServer(keep_serving()) as server:
            cache = ClientCache()
            with pytest.raises(ProviderError):
                await fetch(cache, server.url(), headers={"X-Bad": "a\r\nInjected: 1"})
            await cache.aclose()
            assert all("injected" not in request.headers for request in server.requests)

    run(scenario())


# ------------------------------------------------------------------------------ HTTPS


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted(authority: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """The test CA as the only trusted one (SSL_CERT_FILE)."""
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return authority


def server_context(authority: trustme.CA, *names: str) -> tuple[ssl.SSLContext, list[str | None]]:
    """A server context with a certificate for ``names``, and the SNI names it was asked for."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*names).configure_cert(context)
    context.set_alpn_protocols(["http/1.1"])
    asked: list[str | None] = []

    def record(_sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        asked.append(name)

    context.sni_callback = record
    return context, asked


def test_https_with_a_trusted_ca(trusted: trustme.CA) -> None:
    context, asked = server_context(trusted, "localhost")
    alpn: list[str | None] = []

    async def handler(peer: Peer) -> None:
        alpn.append(peer.writer.get_extra_info("ssl_object").selected_alpn_protocol())
        while await peer.request() is not None:
            await peer.send(response(b"secret", framing="chunked"))

    async def scenario() -> None:
        async with ScriptedServer(handler, context) as server:
            cache = ClientCache()
            assert await fetch(cache, server.url("/v1", host="localhost")) == b"secret"
            assert await fetch(cache, server.url("/v1", host="localhost")) == b"secret"
            await cache.aclose()
            assert server.connections == 1
            assert server.requests[0].headers["host"] == f"localhost:{server.port}"

    run(scenario())
    assert asked == ["localhost"]
    assert alpn == ["http/1.1"]


def test_https_host_name_mismatch_is_explained_and_not_retried(trusted: trustme.CA) -> None:
    context, _ = server_context(trusted, "api.example.test")

    async def scenario() -> None:
        async with ScriptedServer(keep_serving(), context) as server:
            cache = ClientCache()
            with pytest.raises(ProviderError) as info:
                await fetch(cache, server.url(host="localhost"))
            await cache.aclose()
            message = str(info.value)
            assert not isinstance(info.value, RetryableError)
            assert "TLS certificate is not trusted" in message and "Hostname mismatch" in message
            assert "SSL_CERT_FILE" in message
            assert server.requests == []

    run(scenario())


def test_https_untrusted_ca_fails(authority: trustme.CA, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without SSL_CERT_FILE the client trusts the default bundle, which does not hold the test CA.
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    context, _ = server_context(authority, "localhost")

    async def scenario() -> None:
        async with ScriptedServer(keep_serving(), context) as server:
            cache = ClientCache()
            with pytest.raises(ProviderError, match="TLS certificate is not trusted"):
                await fetch(cache, server.url(host="localhost"))
            await cache.aclose()

    run(scenario())


def test_https_handshake_that_never_finishes_is_a_timeout(trusted: trustme.CA) -> None:
    async def silent(peer: Peer) -> None:
        await peer.reader.read()  # a TCP peer that never speaks TLS

    async def scenario() -> None:
        async with ScriptedServer(silent) as server:
            cache = ClientCache()
            url = f"https://localhost:{server.port}/"
            with pytest.raises(RetryableError, match=rf"no answer from 'T' at {url} in time \(ConnectTimeout"):
                await fetch(cache, url, idle_ms=300)
            await cache.aclose()

    run(scenario())


def test_unreadable_ssl_cert_file_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "missing.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))

    async def scenario() -> None:
        with pytest.raises(ProviderError, match=f"cannot load the trusted certificates \\(SSL_CERT_FILE={missing}"):
            ClientCache().get("https://api.openai.com/v1")

    run(scenario())


# ------------------------------------------------------------------------------ proxies


def test_one_client_per_loop_and_kind_until_closed() -> None:
    async def scenario() -> None:
        cache = ClientCache()
        client = cache.get("https://api.openai.com/v1")
        assert cache.get("https://other.example/v1") is client
        local = cache.get("http://127.0.0.1:11434")
        assert local is not client
        await cache.aclose()
        assert client.is_closed and local.is_closed
        assert cache.get("https://api.openai.com/v1") is not client

    run(scenario())


def test_requests_go_through_the_proxy_named_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The "proxy" answers itself; what matters is that the request reached it in proxy form.
    body = b"event: response.created\ndata: {}\n\n"

    async def proxy(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.send(response(body, headers=("Content-Type: text/event-stream",)))

    async def scenario() -> None:
        async with ScriptedServer(proxy) as server:
            monkeypatch.setenv("HTTP_PROXY", server.url())
            cache = ClientCache()
            events = await consume(cache.get("http://model.invalid/v1"), provider_for("http://model.invalid/v1"))
            await cache.aclose()
            assert events == [("response.created", "{}")]
            assert server.requests[0].target == "http://model.invalid/v1/responses"

    run(scenario())


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_model_server_on_this_machine_is_never_proxied(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    body = b"event: response.created\ndata: {}\n\n"

    async def model(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.send(response(body, headers=("Content-Type: text/event-stream",)))

    async def scenario() -> None:
        async with ScriptedServer(model) as server:
            # A proxy that does not exist: going through it would fail.
            for variable in ("HTTP_PROXY", "ALL_PROXY", "http_proxy"):
                monkeypatch.setenv(variable, f"http://127.0.0.1:{free_port()}")
            url = server.url("/v1", host=host)
            cache = ClientCache()
            assert await consume(cache.get(url), provider_for(url)) == [("response.created", "{}")]
            await cache.aclose()
            assert server.requests[0].target == "/v1/responses"

    run(scenario())


# ------------------------------------------------------------------------------ wording, end to end


def test_failures_read_as_a_user_needs_them(mock_model: MockModelServer) -> None:
    mock_model.responses_text("a b c d", drop_after_events=2)
    mock_model.responses_text("a b c", stall_after_events=1)
    mock_model.error(429, "Rate limit reached", headers={"Retry-After": "2"})
    mock_model.error(401, "bad key")
    provider = ModelProviderInfo(id="mock", **mock_model.provider_info("responses", stream_idle_timeout_ms=300))

    async def attempt(client: Any, target: ModelProviderInfo) -> ProviderError:
        with pytest.raises(ProviderError) as info:
            await consume(client, target)
        return info.value

    async def scenario() -> None:
        cache = ClientCache()
        client = cache.get(provider.base_url)
        broke, stalled, limited, rejected = [await attempt(client, provider) for _ in range(4)]
        await cache.aclose()
        assert isinstance(broke, RetryableError) and broke.started
        assert str(broke).startswith("the stream from 'Mock' broke off: RemoteProtocolError")
        assert isinstance(stalled, RetryableError) and stalled.started
        assert str(stalled) == "the stream from 'Mock' was idle for more than 0.3 s (stream_idle_timeout_ms)"
        assert isinstance(limited, RetryableError) and not limited.started
        assert str(limited) == "HTTP 429 Too Many Requests from 'Mock': Rate limit reached"
        assert limited.retry_after == 2.0
        assert not isinstance(rejected, RetryableError)
        assert "rejected the credentials (HTTP 401 Unauthorized): bad key." in str(rejected)

    run(scenario())


def test_wrong_content_type_is_explained() -> None:
    async def scenario() -> None:
        async with ScriptedServer(keep_serving(b"<html>login</html>")) as server:
            cache = ClientCache()
            with pytest.raises(ProviderError) as info:
                await consume(cache.get(server.url()), provider_for(server.url("/v1")))
            await cache.aclose()
            assert "with text/plain instead of an event stream (text/event-stream): <html>login</html>" in str(
                info.value
            )

    run(scenario())


def test_a_plain_http_server_needs_no_certificates_and_its_client_refuses_https(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bundle that cannot be loaded: only a client that loads certificates would fail on it.
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(broken))
    body = b"plain and local\n"

    async def handler(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.send(response(body))

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            cache = ClientCache()
            assert await fetch(cache, server.url("/v1/x")) == body
            plain = cache.get(server.url())
            with pytest.raises(httpx2.UnsupportedProtocol, match="made for a plain-HTTP server"):
                await plain.get(f"https://localhost:{server.port}/")
            # A server that speaks TLS gets a client of its own, which does load the bundle.
            with pytest.raises(ProviderError, match="cannot load the trusted certificates"):
                cache.get(f"https://localhost:{server.port}/")
            await cache.aclose()
            assert len(server.requests) == 1

    run(scenario())
