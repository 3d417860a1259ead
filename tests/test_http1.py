"""codex.http1, the small HTTP/1.1 client the model wires use, against real servers on 127.0.0.1.

Each test starts a scripted server in its own event loop (``ScriptedServer``: one handler call
per accepted connection, with helpers to read a request and to write bytes slowly, close, or
reset), then checks what a user of the client sees: bodies, errors and their wording, and how
many connections and requests the server saw. The end-to-end test runs the real CLI and reads
Python's import log to prove a model request never loads httpx.
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

import pytest
import trustme

from codex.config.model import ModelProviderInfo
from codex.errors import ProviderError
from codex.http import ClientCache, post_sse
from codex.http1 import (
    AsyncHTTPClient,
    ConnectError,
    ConnectTimeout,
    ReadTimeout,
    RemoteProtocolError,
    TransportError,
    create_ssl_context,
)
from codex.wire import RetryableError
from tests.conftest import RunCodex
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


async def fetch(client: AsyncHTTPClient, url: str, **options: Any) -> tuple[int, bytes]:
    async with client.stream("POST", url, content=b'{"q": 1}', read_timeout=5.0, **options) as answer:
        return answer.status_code, b"".join([piece async for piece in answer.aiter_bytes()])


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
            client = AsyncHTTPClient()
            assert await fetch(client, server.url("/v1/x")) == (200, body)
            assert await fetch(client, server.url("/v1/x")) == (200, body)
            await client.aclose()
            # A body that ends with the connection cannot leave it reusable.
            assert server.connections == (2 if framing == "eof" else 1)

    run(scenario())


def test_request_carries_host_length_and_identity_encoding() -> None:
    async def scenario() -> None:
        async with ScriptedServer(keep_serving()) as server:
            client = AsyncHTTPClient()
            async with client.stream("POST", server.url("/v1/responses?api-version=2"), content=b"{}",
                                     headers={"Authorization": "Bearer k", "Accept-Encoding": "gzip"}) as answer:
                await answer.aread()
            async with client.stream("GET", server.url("/api/tags")) as answer:
                assert await answer.aread() == b"hello"
            await client.aclose()
            post, get = server.requests
            assert (post.method, post.target, post.body) == ("POST", "/v1/responses?api-version=2", b"{}")
            assert post.headers["host"] == f"127.0.0.1:{server.port}"
            assert post.headers["content-length"] == "2"
            assert post.headers["accept-encoding"] == "identity"
            assert post.headers["authorization"] == "Bearer k"
            assert (get.method, get.target, "content-length" in get.headers) == ("GET", "/api/tags", False)

    run(scenario())


def test_chunked_body_split_at_every_byte() -> None:
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
            client = AsyncHTTPClient()
            async with client.stream("POST", server.url(), content=b"{}", read_timeout=5.0) as answer:
                assert answer.headers["Content-Type"] == "text/event-stream"
                pieces = [piece async for piece in answer.aiter_bytes()]
            assert b"".join(pieces) == body
            assert len(pieces) > 1  # it streamed, it did not wait for the end
            assert await fetch(client, server.url()) == (200, body)  # and the connection was reusable
            await client.aclose()
            assert server.connections == 1

    run(scenario())


def test_error_status_body_is_readable_and_keeps_the_connection() -> None:
    error = json.dumps({"error": {"message": "no such model", "code": "model_not_found"}}).encode()

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(error, framing="chunked", status="404 Not Found"))
        await peer.request()
        await peer.send(response(b"fine"))
        await peer.request()

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            client = AsyncHTTPClient()
            assert await fetch(client, server.url()) == (404, error)
            assert await fetch(client, server.url()) == (200, b"fine")
            await client.aclose()
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
            client = AsyncHTTPClient()
            async with client.stream("POST", server.url(), content=upload, read_timeout=10.0) as answer:
                received = bytearray()
                async for piece in answer.aiter_bytes():
                    received += piece
                    await asyncio.sleep(0)  # a consumer slower than the socket
            assert bytes(received) == download
            await client.aclose()

    run(scenario())


# ------------------------------------------------------------------------------ keep-alive


def test_keep_alive_reuses_one_connection() -> None:
    async def scenario() -> None:
        async with ScriptedServer(keep_serving(framing="chunked")) as server:
            client = AsyncHTTPClient()
            for _ in range(3):
                assert await fetch(client, server.url()) == (200, b"hello")
            await client.aclose()
            assert server.connections == 1
            assert len(server.requests) == 3

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
            client = AsyncHTTPClient()
            assert await fetch(client, server.url()) == (200, b"once")
            assert await fetch(client, server.url()) == (200, b"once")
            await client.aclose()
            assert server.connections == 2

    run(scenario())


def test_request_with_connection_close_is_not_reused() -> None:
    async def scenario() -> None:
        async with ScriptedServer(keep_serving()) as server:
            client = AsyncHTTPClient()
            for _ in range(2):
                assert await fetch(client, server.url(), headers={"Connection": "close"}) == (200, b"hello")
            await client.aclose()
            assert server.connections == 2

    run(scenario())


def test_a_body_left_unread_closes_the_connection() -> None:
    async def scenario() -> None:
        async with ScriptedServer(keep_serving(b"y" * 100_000, framing="chunked")) as server:
            client = AsyncHTTPClient()
            async with client.stream("POST", server.url(), content=b"{}") as answer:
                async for _ in answer.aiter_bytes():
                    break
            assert await fetch(client, server.url()) == (200, b"y" * 100_000)
            await client.aclose()
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
            client = AsyncHTTPClient()
            assert await fetch(client, server.url()) == (200, b"first")
            await closed.wait()
            await asyncio.sleep(0.05)  # the client's loop sees the close while the connection idles
            assert await fetch(client, server.url()) == (200, b"first")
            await client.aclose()
            assert server.connections == 2
            assert len(server.requests) == 2

    run(scenario())


@pytest.mark.parametrize("how", ["reset", "close"])
def test_reused_connection_failing_before_any_answer_is_retried_once(how: str) -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(b"answer"))
        if peer.number == 1:
            # The second request arrives on the pooled connection, which dies unanswered.
            await peer.request()
            if how == "reset":
                peer.reset()
            else:
                await peer.close()
            return
        await peer.request()

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            client = AsyncHTTPClient()
            assert await fetch(client, server.url()) == (200, b"answer")
            assert await fetch(client, server.url()) == (200, b"answer")
            await client.aclose()
            assert server.connections == 2
            # First request, second request on the dead connection, the same again on a new one.
            assert len(server.requests) == 3

    run(scenario())


def test_no_retry_once_response_bytes_arrived() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(b"answer"))
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Le")  # half a head, then gone
        await peer.close()

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            client = AsyncHTTPClient()
            await fetch(client, server.url())
            with pytest.raises(RemoteProtocolError, match="in the middle of the response head"):
                await fetch(client, server.url())
            await client.aclose()
            assert server.connections == 1
            assert len(server.requests) == 2

    run(scenario())


def test_new_connection_closed_without_answer_is_not_retried() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.close()

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            client = AsyncHTTPClient()
            with pytest.raises(RemoteProtocolError, match="without sending a response"):
                await fetch(client, server.url())
            await client.aclose()
            assert (server.connections, len(server.requests)) == (1, 1)

    run(scenario())


def test_concurrent_requests_use_separate_connections_then_share_the_pool() -> None:
    async def scenario() -> None:
        async with ScriptedServer(keep_serving(framing="chunked")) as server:
            client = AsyncHTTPClient()
            results = await asyncio.gather(*(fetch(client, server.url()) for _ in range(3)))
            assert results == [(200, b"hello")] * 3
            assert server.connections == 3
            await asyncio.gather(*(fetch(client, server.url()) for _ in range(3)))
            assert server.connections == 3
            await client.aclose()

    run(scenario())


# ------------------------------------------------------------------------------ failures


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused() -> None:
    port = free_port()

    async def scenario() -> None:
        client = AsyncHTTPClient()
        with pytest.raises(ConnectError) as info:
            await fetch(client, f"http://127.0.0.1:{port}/v1")
        assert str(info.value) == f"connection refused by 127.0.0.1:{port}"
        assert isinstance(info.value, OSError)

    run(scenario())


def test_idle_read_timeout_before_and_during_the_body() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        if peer.number == 2:
            await peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await peer.request()  # then silence

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            client = AsyncHTTPClient()
            with pytest.raises(ReadTimeout) as before:
                async with client.stream("POST", server.url(), content=b"{}", read_timeout=0.2):
                    pass
            assert isinstance(before.value, TimeoutError)
            assert str(before.value) == f"no data from 127.0.0.1:{server.port} for 0.2 s while waiting for the response"
            async with client.stream("POST", server.url(), content=b"{}", read_timeout=0.2) as answer:
                pieces = []
                with pytest.raises(ReadTimeout, match="while waiting for the response body"):
                    async for piece in answer.aiter_bytes():
                        pieces.append(piece)
            assert pieces == [b"hello"]
            await client.aclose()

    run(scenario())


def test_malformed_answers_are_protocol_errors() -> None:
    answers = [b"SSH-2.0-OpenSSH_9.6\r\n\r\n", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(answers[peer.number - 1])
        await peer.request()

    async def scenario() -> None:
        async with ScriptedServer(handler) as server:
            client = AsyncHTTPClient()
            with pytest.raises(RemoteProtocolError, match=r"something other than HTTP/1\.x"):
                await fetch(client, server.url())
            with pytest.raises(RemoteProtocolError, match="malformed chunked body"):
                await fetch(client, server.url())
            await client.aclose()

    run(scenario())


def test_header_with_line_break_is_refused_before_sending() -> None:
    async def scenario() -> None:
        async with ScriptedServer(keep_serving()) as server:
            client = AsyncHTTPClient()
            with pytest.raises(TransportError, match="'X-Bad' contains a line break"):
                await fetch(client, server.url(), headers={"X-Bad": "a\r\nInjected: 1"})
            assert server.connections == 0

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


def test_https_with_a_trusted_ca(trusted: trustme.CA, monkeypatch: pytest.MonkeyPatch) -> None:
    context, asked = server_context(trusted, "localhost")
    built: list[ssl.SSLContext] = []

    def counting() -> ssl.SSLContext:
        built.append(create_ssl_context())
        return built[-1]

    monkeypatch.setattr("codex.http1.create_ssl_context", counting)
    alpn: list[str | None] = []

    async def handler(peer: Peer) -> None:
        alpn.append(peer.writer.get_extra_info("ssl_object").selected_alpn_protocol())
        while await peer.request() is not None:
            await peer.send(response(b"secret", framing="chunked"))

    async def scenario() -> None:
        async with ScriptedServer(handler, context) as server:
            client = AsyncHTTPClient()
            assert await fetch(client, server.url("/v1", host="localhost")) == (200, b"secret")
            assert await fetch(client, server.url("/v1", host="localhost")) == (200, b"secret")
            await client.aclose()
            assert server.connections == 1
            assert server.requests[0].headers["host"] == f"localhost:{server.port}"

    run(scenario())
    assert asked == ["localhost"]
    assert alpn == ["http/1.1"]
    assert len(built) == 1


def test_https_host_name_mismatch_fails(trusted: trustme.CA) -> None:
    context, _ = server_context(trusted, "api.example.test")

    async def scenario() -> None:
        async with ScriptedServer(keep_serving(), context) as server:
            client = AsyncHTTPClient()
            with pytest.raises(ConnectError) as info:
                await fetch(client, server.url(host="localhost"))
            message = str(info.value)
            assert message.startswith(f"TLS certificate of localhost:{server.port} not trusted: Hostname mismatch")
            assert "SSL_CERT_FILE" in message
            assert server.requests == []

    run(scenario())


def test_https_untrusted_ca_fails(authority: trustme.CA, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without SSL_CERT_FILE the client trusts certifi's bundle, which does not hold the test CA.
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    context, _ = server_context(authority, "localhost")

    async def scenario() -> None:
        async with ScriptedServer(keep_serving(), context) as server:
            client = AsyncHTTPClient()
            with pytest.raises(ConnectError, match=r"not trusted: (self-signed|unable to get local issuer)"):
                await fetch(client, server.url(host="localhost"))

    run(scenario())


def test_https_handshake_that_never_finishes_is_a_connect_timeout(trusted: trustme.CA) -> None:
    async def silent(peer: Peer) -> None:
        await peer.reader.read()  # a TCP peer that never speaks TLS

    async def scenario() -> None:
        async with ScriptedServer(silent) as server:
            client = AsyncHTTPClient()
            url = f"https://localhost:{server.port}/"
            with pytest.raises(ConnectTimeout, match=rf"could not connect to localhost:{server.port} within 0.3 s"):
                async with client.stream("GET", url, connect_timeout=0.3):
                    pass

    run(scenario())


def test_unreadable_ssl_cert_file_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(ConnectError, match="cannot load the trusted certificates from SSL_CERT_FILE="):
        create_ssl_context()


# ------------------------------------------------------------------------------ codex.http on top


def provider_for(url: str, **fields: Any) -> ModelProviderInfo:
    return ModelProviderInfo(id="t", name="T", base_url=url, wire_api="responses", **fields)


async def consume(client: Any, provider: ModelProviderInfo) -> list[tuple[str, str]]:
    return [event async for event in post_sse(client, provider, "responses", {"model": "m"})]


def test_client_cache_hands_out_the_fast_client_without_proxies() -> None:
    async def scenario() -> None:
        cache = ClientCache()
        client = cache.get("https://api.openai.com/v1")
        assert isinstance(client, AsyncHTTPClient)
        assert cache.get("http://127.0.0.1:11434") is client
        await cache.aclose()
        assert client.is_closed
        assert cache.get("https://api.openai.com/v1") is not client

    run(scenario())


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_a_proxy_variable_selects_httpx(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    monkeypatch.setenv(variable, "http://127.0.0.1:3128")

    async def scenario() -> None:
        cache = ClientCache()
        assert isinstance(cache.get("https://api.openai.com/v1"), httpx.AsyncClient)
        if variable != "ALL_PROXY":
            # An https proxy says nothing about plain-http servers.
            assert isinstance(cache.get("http://127.0.0.1:11434"), AsyncHTTPClient)
        await cache.aclose()

    run(scenario())


@pytest.mark.parametrize("url", ["http://127.0.0.1:11434/v1", "http://localhost:1234/v1", "http://[::1]:8080/v1"])
def test_a_model_server_on_this_machine_is_never_proxied(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:3128")

    async def scenario() -> None:
        cache = ClientCache()
        assert isinstance(cache.get(url), AsyncHTTPClient)
        await cache.aclose()

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


@pytest.mark.parametrize("kind", ["http1", "httpx"])
def test_failures_read_the_same_with_either_client(kind: str, mock_model: MockModelServer) -> None:
    import httpx

    mock_model.responses_text("a b c d", drop_after_events=2)
    mock_model.responses_text("a b c", stall_after_events=1)
    mock_model.error(429, "Rate limit reached", headers={"Retry-After": "2"})
    mock_model.error(401, "bad key")
    provider = ModelProviderInfo(id="mock", **mock_model.provider_info("responses", stream_idle_timeout_ms=300))
    port = free_port()
    down = provider_for(f"http://127.0.0.1:{port}/v1")

    async def attempt(client: Any, target: ModelProviderInfo) -> ProviderError:
        with pytest.raises(ProviderError) as info:
            await consume(client, target)
        return info.value

    async def scenario() -> None:
        client: Any = AsyncHTTPClient() if kind == "http1" else httpx.AsyncClient()
        broke, stalled, limited, rejected, refused = [
            await attempt(client, target) for target in (provider, provider, provider, provider, down)
        ]
        await client.aclose()
        assert isinstance(broke, RetryableError) and broke.started
        assert str(broke).startswith("the stream from 'Mock' broke off: RemoteProtocolError: ")
        assert isinstance(stalled, RetryableError) and stalled.started
        assert str(stalled) == "the stream from 'Mock' was idle for more than 0.3 s (stream_idle_timeout_ms)"
        assert isinstance(limited, RetryableError) and not limited.started
        assert str(limited) == "HTTP 429 Too Many Requests from 'Mock': Rate limit reached"
        assert limited.retry_after == 2.0
        assert not isinstance(rejected, RetryableError)
        assert "rejected the credentials (HTTP 401 Unauthorized): bad key." in str(rejected)
        assert isinstance(refused, RetryableError) and not refused.started
        assert str(refused).startswith(f"could not reach 'T' at http://127.0.0.1:{port}/v1/responses: ConnectError: ")

    run(scenario())


def test_no_answer_in_time_is_worded_as_a_timeout() -> None:
    async def silent(peer: Peer) -> None:
        await peer.request()
        await peer.request()

    async def scenario() -> None:
        async with ScriptedServer(silent) as server:
            client = AsyncHTTPClient()
            with pytest.raises(RetryableError) as info:
                await consume(client, provider_for(server.url("/v1"), stream_idle_timeout_ms=200))
            await client.aclose()
            assert not info.value.started
            assert str(info.value) == (
                f"no answer from 'T' at {server.url('/v1/responses')} in time (ReadTimeout: no data from "
                f"127.0.0.1:{server.port} for 0.2 s while waiting for the response)"
            )

    run(scenario())


def test_wrong_content_type_is_explained() -> None:
    async def scenario() -> None:
        async with ScriptedServer(keep_serving(b"<html>login</html>")) as server:
            client = AsyncHTTPClient()
            with pytest.raises(ProviderError) as info:
                await consume(client, provider_for(server.url("/v1")))
            await client.aclose()
            assert "with text/plain instead of an event stream (text/event-stream): <html>login</html>" in str(
                info.value
            )

    run(scenario())


# ------------------------------------------------------------------------------ end to end


def test_codex_exec_never_imports_httpx(
    mock_model: MockModelServer, codex_home: Path, tmp_path: Path, run_codex: RunCodex
) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
    )
    mock_model.responses_text("hello from the mock")

    # PYTHONPROFILEIMPORTTIME is -X importtime: every module imported is logged to stderr.
    result = run_codex("exec", "--skip-git-repo-check", "say hi", cwd=tmp_path,
                       env={"PYTHONPROFILEIMPORTTIME": "1", "OPENAI_API_KEY": "unused"})

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == "hello from the mock\n"
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "codex.http1" in imported
    assert not {"httpx", "httpcore", "h11", "anyio"} & imported
    assert len(mock_model.requests) == 1
