"""A small HTTP/1.1 client on asyncio, for the model wires' one-request-at-a-time streaming POSTs.

Why not httpx: importing httpx, httpcore, h11 and anyio (and the urllib, cookie and e-mail modules
they pull in) costs a ``codex exec`` tens of milliseconds before the first byte is sent, and the
wires need only a sliver of it. This client does exactly that sliver:

- one request at a time per connection; ``POST``/``GET`` with a bytes body and ``Content-Length``;
- a response head with case-insensitive ``headers``, and the body streamed as bytes, framed by
  ``Transfer-Encoding: chunked``, ``Content-Length`` or the end of the connection;
- keep-alive: idle connections pooled per (scheme, host, port), reused only after a response
  was read to its end and neither side said ``Connection: close`` (HTTP/1.0 answers never are);
- a pooled connection the server closed meanwhile never fails a request: it is checked before
  reuse, and a reused one that fails before ANY response byte arrives is retried once on a new
  connection (never once bytes arrived: the server may have acted on the request);
- a connect timeout and a per-read idle timeout (``ConnectTimeout``, ``ReadTimeout``);
- HTTPS with certificate and host-name verification against ``SSL_CERT_FILE``/``SSL_CERT_DIR``,
  else certifi's bundle, else the system store (httpx's order); the context is built once per
  client, on the first https request.

It sends ``Accept-Encoding: identity`` (bodies are never decompressed), follows no redirects and
knows no proxies (``codex.http`` uses httpx when a proxy variable is set). Every failure is a
``TransportError`` (an ``OSError``); timeouts are also ``TimeoutError``::

    client = AsyncHTTPClient()
    async with client.stream("POST", "http://127.0.0.1:11434/api/chat", content=b"{}",
                             headers={"Content-Type": "application/json"}, read_timeout=300) as response:
        if response.status_code == 200:
            async for chunk in response.aiter_bytes():
                ...
    await client.aclose()
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    import ssl
    from types import TracebackType

# A response head larger than this is not an HTTP server talking to us.
_MAX_HEAD = 64 * 1024
# Chunk-size and trailer lines are short; a longer one means the framing is lost.
_MAX_LINE = 8 * 1024
# Stop reading from the socket while this much body waits unconsumed.
_READ_HIGH_WATER = 1024 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HEX_DIGITS = b"0123456789abcdefABCDEF"
# Headers this client owns: the framing and the encoding are its business, not the caller's.
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "accept-encoding"})


class TransportError(OSError):
    """A request failed in the network or the HTTP framing (not an HTTP error status).

    Subclasses are named like httpx's so messages read the same whichever client was used.
    """

    def __init__(self, message: str) -> None:
        # OSError treats two positional arguments as (errno, strerror); keep exactly one.
        super().__init__(message)


class ConnectError(TransportError):
    """No connection: the name did not resolve, the port refused, or TLS setup failed."""


class ReadError(TransportError):
    """The connection failed while the response was being read."""


class WriteError(TransportError):
    """The connection failed while the request was being sent."""


class RemoteProtocolError(TransportError):
    """The server broke HTTP/1.1: no answer at all, a malformed head, or a cut-off body."""


class LocalProtocolError(TransportError):
    """The request cannot be sent as given (a header with a line break, a bad URL)."""


class TransportTimeout(TransportError, TimeoutError):
    """A time limit passed; ``isinstance(exc, TimeoutError)`` holds for every timeout."""


class ConnectTimeout(TransportTimeout):
    """The connection (TCP and TLS) was not set up within the connect timeout."""


class ReadTimeout(TransportTimeout):
    """No byte of the response arrived for longer than the read timeout."""


class WriteTimeout(TransportTimeout):
    """The server did not take the request body within the write timeout."""


class Headers(Mapping[str, str]):
    """Response headers: case-insensitive lookup; names iterate lower-cased.

    A header sent several times reads as its values joined with ``", "``; ``raw`` keeps the
    lines as they came.
    """

    __slots__ = ("_values", "raw")

    def __init__(self, raw: list[tuple[str, str]]) -> None:
        self.raw = raw
        values: dict[str, str] = {}
        for name, value in raw:
            key = name.lower()
            values[key] = f"{values[key]}, {value}" if key in values else value
        self._values = values

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Headers({self.raw!r})"


class _Connection(asyncio.Protocol):
    """One socket: received bytes pile up in ``buffer`` until the response reader takes them."""

    def __init__(self, loop: asyncio.AbstractEventLoop, key: tuple[str, str, int], peer: str) -> None:
        self.loop = loop
        self.key = key
        self.peer = peer
        self.buffer = bytearray()
        # Bytes received since the current request was sent: zero means a failure is retryable.
        self.received = 0
        self.idle_since = 0.0
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._eof = False
        self._lost: BaseException | None = None
        self._closed = False
        self._reading_paused = False
        self._writing_paused = False
        self._timed_out = False

    # -------------------------------------------------------------- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.received += len(data)
        if len(self.buffer) > _READ_HIGH_WATER and self._transport is not None and not self._reading_paused:
            self._reading_paused = True
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool | None:
        self._eof = True
        self._wake()
        return None  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._closed = True
        self._lost = exc
        self._wake()
        drain = self._drain_waiter
        if drain is not None and not drain.done():
            drain.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        drain = self._drain_waiter
        if drain is not None and not drain.done():
            drain.set_result(None)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_timeout(self) -> None:
        self._timed_out = True
        self._wake()

    # -------------------------------------------------------------- used by the client

    def usable(self) -> bool:
        """Fit for another request: open, not at EOF, and nothing unasked-for in the buffer."""
        transport = self._transport
        return (
            not self._eof
            and not self._closed
            and not self.buffer
            and transport is not None
            and not transport.is_closing()
        )

    def close(self) -> None:
        """Drop the connection (abort: nothing of ours is left to flush)."""
        self._closed = True
        if self._transport is not None:
            self._transport.abort()

    async def send(self, data: bytes, timeout: float | None) -> None:
        """Write a request; wait while the transport's buffer is over its high-water mark."""
        transport = self._transport
        if transport is None or self._closed or transport.is_closing():
            raise WriteError(f"the connection to {self.peer} was closed before the request could be sent")
        self.received = 0
        transport.write(data)
        while self._writing_paused and not self._closed:
            waiter = self.loop.create_future()
            self._drain_waiter = waiter
            try:
                async with asyncio.timeout(timeout):
                    await waiter
            except TimeoutError:
                raise WriteTimeout(
                    f"{self.peer} took no part of the request body for {_seconds(timeout)}"
                ) from None
            finally:
                self._drain_waiter = None
        if self._closed:
            raise WriteError(f"the connection to {self.peer} closed while the request was sent{self._reason()}")

    async def wait_data(self, timeout: float | None, waiting_for: str) -> bool:
        """Wait until more bytes arrive (True) or the server ends the connection (False).

        Raises ``ReadTimeout`` after ``timeout`` seconds without a byte, ``ReadError`` when
        the connection broke (a reset rather than an orderly close).
        """
        if self._reading_paused and self._transport is not None:
            self._reading_paused = False
            self._transport.resume_reading()
        size = len(self.buffer)
        while len(self.buffer) == size:
            if self._eof:
                if self._lost is not None:
                    raise ReadError(f"the connection to {self.peer} broke while waiting for {waiting_for}: "
                                    f"{_describe_os_error(self._lost)}")
                return False
            waiter = self.loop.create_future()
            self._waiter = waiter
            self._timed_out = False
            timer = self.loop.call_later(timeout, self._on_timeout) if timeout is not None else None
            try:
                await waiter
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
            if self._timed_out and len(self.buffer) == size:
                raise ReadTimeout(f"no data from {self.peer} for {_seconds(timeout)} while waiting for {waiting_for}")
        return True

    def _reason(self) -> str:
        return f": {_describe_os_error(self._lost)}" if self._lost is not None else ""


class Response:
    """A response whose head has arrived; the body streams from ``aiter_bytes()``.

    ``aclose()`` (done by ``AsyncHTTPClient.stream``) hands the connection back to the pool
    when the body was read to its end, and closes it otherwise.
    """

    def __init__(
        self,
        client: AsyncHTTPClient,
        connection: _Connection,
        status_code: int,
        reason: str,
        http_version: str,
        headers: Headers,
        *,
        read_timeout: float | None,
        no_body: bool,
        request_close: bool,
    ) -> None:
        self.status_code = status_code
        self.reason_phrase = reason
        self.http_version = http_version
        self.headers = headers
        self._client = client
        self._connection: _Connection | None = connection
        self._read_timeout = read_timeout
        self._complete = False
        self._started = False
        tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
        self._keep_alive = http_version == "HTTP/1.1" and "close" not in tokens and not request_close
        encodings = [token.strip().lower() for token in headers.get("transfer-encoding", "").split(",")]
        self._length: int | None = None
        if no_body:
            self._framing = "none"
        elif encodings[-1] == "chunked":
            self._framing = "chunked"
        elif "transfer-encoding" in headers:
            # Some other coding with no length: only the end of the connection ends the body.
            self._framing = "eof"
        elif "content-length" in headers:
            self._framing = "length"
            self._length = _content_length(headers["content-length"], connection.peer)
        else:
            self._framing = "eof"
        if self._framing == "eof":
            self._keep_alive = False
        if self._framing == "none" or self._length == 0:
            self._complete = True

    @property
    def is_complete(self) -> bool:
        """The body has been read to its end."""
        return self._complete

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body as it arrives, in pieces of any size; can be iterated once."""
        if self._started:
            raise RuntimeError("the response body was already read")
        self._started = True
        if self._complete:
            return _empty()
        if self._framing == "chunked":
            return self._chunked()
        if self._framing == "length":
            return self._fixed()
        return self._until_eof()

    async def aread(self) -> bytes:
        """The whole body (meant for short answers such as error bodies)."""
        return b"".join([piece async for piece in self.aiter_bytes()])

    async def aclose(self) -> None:
        """Release the connection: back to the pool when reusable, else closed."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._complete and self._keep_alive and connection.usable():
            self._client._release(connection)
        else:
            connection.close()

    def _connection_or_fail(self) -> _Connection:
        if self._connection is None:
            raise RuntimeError("the response was closed before its body was read")
        return self._connection

    async def _fixed(self) -> AsyncIterator[bytes]:
        connection = self._connection_or_fail()
        buffer = connection.buffer
        assert self._length is not None
        remaining = self._length
        while remaining:
            if not buffer and not await connection.wait_data(self._read_timeout, "the response body"):
                raise RemoteProtocolError(
                    f"{connection.peer} closed the connection {remaining} bytes before the end of a "
                    f"{self._length}-byte body"
                )
            take = min(remaining, len(buffer))
            piece = bytes(buffer[:take])
            del buffer[:take]
            remaining -= take
            if not remaining:
                # Before the last yield: a consumer that stops right after it still frees the connection.
                self._complete = True
            yield piece

    async def _until_eof(self) -> AsyncIterator[bytes]:
        connection = self._connection_or_fail()
        buffer = connection.buffer
        while True:
            if buffer:
                piece = bytes(buffer)
                buffer.clear()
                yield piece
            elif not await connection.wait_data(self._read_timeout, "the response body"):
                self._complete = True
                return

    async def _chunked(self) -> AsyncIterator[bytes]:
        """Decode chunked framing straight from the receive buffer.

        Every chunk the socket delivered is decoded before the next wait and handed out as
        one piece: a server that frames each event as its own chunk costs no extra awaits.
        """
        connection = self._connection_or_fail()
        buffer = connection.buffer
        pieces: list[bytes] = []
        left = 0  # bytes of the current chunk's data still to come
        after_data = False  # the CRLF that closes a chunk's data is due
        in_trailer = False
        while True:
            while buffer:
                if left:
                    take = min(left, len(buffer))
                    pieces.append(bytes(buffer[:take]))
                    del buffer[:take]
                    left -= take
                    after_data = not left
                    continue
                if after_data:
                    if buffer[0] == 10:  # a bare LF; lenient, as most clients are
                        del buffer[:1]
                    elif buffer[0] == 13:
                        if len(buffer) < 2:
                            break
                        if buffer[1] != 10:
                            raise self._bad_framing(bytes(buffer[:2]))
                        del buffer[:2]
                    else:
                        raise self._bad_framing(bytes(buffer[:20]))
                    after_data = False
                    continue
                end = buffer.find(b"\n")
                if end < 0:
                    if len(buffer) > _MAX_LINE:
                        raise self._bad_framing(bytes(buffer[:20]))
                    break
                line = bytes(buffer[:end]).rstrip(b"\r")
                del buffer[: end + 1]
                if in_trailer:
                    if not line:
                        self._complete = True
                        if pieces:
                            yield b"".join(pieces)
                        return
                    continue  # trailer fields carry nothing the wires use
                size = line.split(b";", 1)[0].strip()
                if not size or size.strip(_HEX_DIGITS) or len(size) > 16:
                    raise self._bad_framing(line[:40])
                left = int(size, 16)
                in_trailer = left == 0
            if pieces:
                yield pieces[0] if len(pieces) == 1 else b"".join(pieces)
                pieces.clear()
            if not await connection.wait_data(self._read_timeout, "the response body"):
                raise RemoteProtocolError(
                    f"{connection.peer} closed the connection before the end of a chunked body"
                )

    def _bad_framing(self, sample: bytes) -> RemoteProtocolError:
        peer = self._connection.peer if self._connection is not None else "the server"
        return RemoteProtocolError(f"{peer} sent a malformed chunked body (at {sample!r})")


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""  # makes this an async generator


class _StreamContext:
    """``async with client.stream(...) as response``: the response is closed on the way out."""

    __slots__ = ("_coro", "_response")

    def __init__(self, coro: Coroutine[Any, Any, Response]) -> None:
        self._coro = coro
        self._response: Response | None = None

    async def __aenter__(self) -> Response:
        self._response = await self._coro
        return self._response

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._response is not None:
            await self._response.aclose()


class AsyncHTTPClient:
    """An HTTP/1.1 client with a keep-alive pool, bound to the event loop it is used on.

    ``keepalive_expiry`` drops connections idle for longer (a middlebox may have forgotten
    them without telling either end); ``max_idle_per_origin`` caps the pool per server.
    """

    def __init__(self, *, keepalive_expiry: float = 90.0, max_idle_per_origin: int = 8) -> None:
        self.keepalive_expiry = keepalive_expiry
        self.max_idle_per_origin = max_idle_per_origin
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._ssl_context: ssl.SSLContext | None = None
        self._closed = False

    @property
    def is_closed(self) -> bool:
        """``aclose()`` was called."""
        return self._closed

    def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes = b"",
        connect_timeout: float | None = 30.0,
        read_timeout: float | None = None,
        write_timeout: float | None = None,
    ) -> _StreamContext:
        """Send a request; use as ``async with client.stream(...) as response``.

        The block is entered once the response head arrived; leaving it releases the connection.
        """
        return _StreamContext(
            self.send(
                method, url, headers=headers, content=content, connect_timeout=connect_timeout,
                read_timeout=read_timeout, write_timeout=write_timeout,
            )
        )

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes = b"",
        connect_timeout: float | None = 30.0,
        read_timeout: float | None = None,
        write_timeout: float | None = None,
    ) -> Response:
        """Send a request and return once the response head arrived; the caller must
        ``await response.aclose()``. ``read_timeout`` bounds every wait for response bytes,
        ``write_timeout`` every wait to send (default: the read timeout)."""
        if self._closed:
            raise RuntimeError("this AsyncHTTPClient was closed")
        scheme, host, port, request, request_close = _build_request(method, url, headers, content)
        key = (scheme, host, port)
        write_timeout = read_timeout if write_timeout is None else write_timeout
        no_body = method.upper() == "HEAD"
        connection = self._take_idle(key)
        if connection is not None:
            try:
                return await self._exchange(connection, request, read_timeout, write_timeout, no_body, request_close)
            except (ReadError, WriteError, RemoteProtocolError):
                if connection.received:
                    raise
                # The server closed the pooled connection as we reused it: one retry on a fresh
                # connection is safe since it never began to answer. Its pool peers are as old.
                self._drop_idle(key)
        connection = await self._connect(key, connect_timeout)
        return await self._exchange(connection, request, read_timeout, write_timeout, no_body, request_close)

    async def aclose(self) -> None:
        """Close the pooled connections; responses still open close theirs when released."""
        self._closed = True
        for key in list(self._idle):
            self._drop_idle(key)

    # -------------------------------------------------------------- pool

    def _take_idle(self, key: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            connection = idle.pop()  # the most recently used is the likeliest to be alive
            if connection.usable() and now - connection.idle_since <= self.keepalive_expiry:
                return connection
            connection.close()
        return None

    def _release(self, connection: _Connection) -> None:
        if self._closed:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle = self._idle.setdefault(connection.key, [])
        idle.append(connection)
        while len(idle) > self.max_idle_per_origin:
            idle.pop(0).close()

    def _drop_idle(self, key: tuple[str, str, int]) -> None:
        for connection in self._idle.pop(key, []):
            connection.close()

    # -------------------------------------------------------------- connections

    async def _connect(self, key: tuple[str, str, int], timeout: float | None) -> _Connection:
        scheme, host, port = key
        peer = f"{host}:{port}"
        loop = asyncio.get_running_loop()
        connection = _Connection(loop, key, peer)
        context = self._ssl() if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                await loop.create_connection(
                    lambda: connection, host, port, ssl=context,
                    server_hostname=host if context is not None else None,
                    happy_eyeballs_delay=0.25,
                )
        except TimeoutError:
            connection.close()
            raise ConnectTimeout(f"could not connect to {peer} within {_seconds(timeout)}") from None
        except OSError as exc:
            connection.close()
            raise ConnectError(_connect_failure(exc, host, port)) from exc
        return connection

    def _ssl(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = create_ssl_context()
        return self._ssl_context

    async def _exchange(
        self,
        connection: _Connection,
        request: bytes,
        read_timeout: float | None,
        write_timeout: float | None,
        no_body: bool,
        request_close: bool,
    ) -> Response:
        try:
            await connection.send(request, write_timeout)
            while True:
                status, reason, version, headers = await _read_head(connection, read_timeout)
                # 1xx (Early Hints, a stray 100 Continue) precede the real answer.
                if not 100 <= status < 200 or status == 101:
                    break
            return Response(
                self, connection, status, reason, version, headers, read_timeout=read_timeout,
                no_body=no_body or status in (204, 304) or 100 <= status < 200, request_close=request_close,
            )
        except BaseException:
            connection.close()
            raise


def create_ssl_context() -> ssl.SSLContext:
    """A verifying client context: ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else certifi's
    bundle when installed, else the system store. ALPN offers ``http/1.1`` only."""
    import ssl

    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = None if cafile else os.environ.get("SSL_CERT_DIR") or None
    source = f"SSL_CERT_FILE={cafile}" if cafile else f"SSL_CERT_DIR={capath}" if capath else ""
    if not source:
        try:
            import certifi
        except ImportError:
            pass
        else:
            cafile = certifi.where()
            source = f"certifi's bundle {cafile}"
    try:
        context = ssl.create_default_context(cafile=cafile, capath=capath)
    except (OSError, ssl.SSLError) as exc:
        raise ConnectError(
            f"cannot load the trusted certificates from {source}: {_describe_os_error(exc)}; "
            "point SSL_CERT_FILE at a PEM bundle (or unset it)"
        ) from exc
    context.set_alpn_protocols(["http/1.1"])
    return context


def _build_request(
    method: str, url: str, headers: Mapping[str, str] | None, content: bytes
) -> tuple[str, str, int, bytes, bool]:
    """(scheme, host, port, request bytes, the caller asked for Connection: close)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise LocalProtocolError(f"invalid URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        raise LocalProtocolError(f"invalid URL {url!r}: expected http://host/... or https://host/...")
    if port is None:
        port = _DEFAULT_PORTS[scheme]
    host_header = f"[{host}]" if ":" in host else host
    if port != _DEFAULT_PORTS[scheme]:
        host_header += f":{port}"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    method = method.upper()
    lines = [f"{method} {target} HTTP/1.1", ""]
    request_close = False
    authorized = False
    for name, value in (headers or {}).items():
        if "\r" in name or "\n" in name or ":" in name or "\r" in value or "\n" in value:
            raise LocalProtocolError(f"header {name!r} contains a line break or colon; it cannot be sent")
        lowered = name.lower()
        if lowered == "host":
            host_header = value  # a caller may name a virtual host other than the address
            continue
        if lowered in _OWN_HEADERS:
            continue
        if lowered == "connection" and "close" in value.lower():
            request_close = True
        authorized = authorized or lowered == "authorization"
        lines.append(f"{name}: {value}")
    lines[1] = f"Host: {host_header}"
    if parts.username is not None and not authorized:
        import base64

        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        lines.append(f"Authorization: Basic {base64.b64encode(credentials).decode('ascii')}")
    lines.append("Accept-Encoding: identity")
    if content or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(content)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    return scheme, host, port, head + content, request_close


async def _read_head(connection: _Connection, timeout: float | None) -> tuple[int, str, str, Headers]:
    """Status line and header fields of the next response on ``connection``."""
    buffer = connection.buffer
    start = 0
    while True:
        end = buffer.find(b"\r\n\r\n", max(0, start - 3))
        size = 4
        if end < 0:
            end = buffer.find(b"\n\n", max(0, start - 1))
            size = 2
        if end >= 0:
            break
        if len(buffer) > _MAX_HEAD:
            raise RemoteProtocolError(f"{connection.peer} sent a response head over {_MAX_HEAD} bytes")
        start = len(buffer)
        if not await connection.wait_data(timeout, "the response"):
            if buffer:
                raise RemoteProtocolError(f"{connection.peer} closed the connection in the middle of the response head")
            raise RemoteProtocolError(f"{connection.peer} closed the connection without sending a response")
    head = bytes(buffer[:end]).decode("latin-1")
    del buffer[: end + size]
    lines = head.replace("\r\n", "\n").split("\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise RemoteProtocolError(f"{connection.peer} answered with something other than HTTP/1.x: {lines[0][:80]!r}")
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and fields:
            # Obsolete line folding: the line continues the previous field's value.
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise RemoteProtocolError(f"{connection.peer} sent a malformed header line {line[:80]!r}")
        fields.append((name, value.strip()))
    return int(code), reason, version, Headers(fields)


def _content_length(value: str, peer: str) -> int:
    # Repeated Content-Length headers arrive joined ("12, 12"); they must agree.
    lengths = {item.strip() for item in value.split(",")}
    if len(lengths) != 1:
        raise RemoteProtocolError(f"{peer} sent conflicting Content-Length values {value!r}")
    text = lengths.pop()
    if not text.isdigit():
        raise RemoteProtocolError(f"{peer} sent an invalid Content-Length {value!r}")
    return int(text)


def _connect_failure(exc: OSError, host: str, port: int) -> str:
    peer = f"{host}:{port}"
    import socket

    # Only an https request can fail in TLS, and only it has imported ssl.
    ssl = sys.modules.get("ssl")
    if ssl is not None and isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate of {peer} not trusted: {exc.verify_message or exc.reason}; if the server is "
            "meant to be trusted, point SSL_CERT_FILE at a PEM bundle with its CA"
        )
    if ssl is not None and isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {peer} failed: {exc.reason or exc}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name {host!r}: {exc.strerror or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {peer}"
    return f"cannot connect to {peer}: {_describe_os_error(exc)}"


def _describe_os_error(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _seconds(value: float | None) -> str:
    return "ever" if value is None else f"{value:g} s"
