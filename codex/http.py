"""HTTP plumbing any wire API can reuse: headers, URLs, errors that teach, and streamed POSTs.

A wire API (built-in or a third party's) builds its JSON body, then calls ``post_sse`` and turns
each ``(event, data)`` pair into protocol events (``SSEDecoder`` does the framing; ``finish_sse``
reads the tail of a finished stream so its connection is reused), or ``post_stream`` for the raw
body of another streaming format (NDJSON). Everything a provider entry says about HTTP
(``base_url``, ``query_params``, ``http_headers``, ``env_http_headers``, ``env_key``, the idle
timeout) is applied here once, and every failure comes out as a ``RetryableError`` (429, 5xx,
transport errors, dropped or stalled streams) or a ``ProviderError`` with the server's message.

Requests go through httpx2 (Pydantic's maintained continuation of httpx, which the mcp SDK
uses too), the one HTTP stack of codex: one ``httpx2.AsyncClient`` per event loop
with its keep-alive pool (``ClientCache``), system proxies from the environment, and
``httpx2.MockTransport`` swapped in by unit tests. httpx2 itself is imported on the first request,
so importing this module stays cheap::

    from codex.http import ClientCache, post_sse

    class MyWire:
        name = "mine"

        def __init__(self) -> None:
            self._clients = ClientCache()

        async def stream(self, prompt, provider):
            body = {"model": prompt.model, "stream": True}
            client = self._clients.get(provider.base_url)
            async for event, data in post_sse(client, provider, "generate", body,
                                              session_id=prompt.session_id):
                ...
"""

from __future__ import annotations

import json
import os
import re
import sys
import weakref
from collections.abc import AsyncGenerator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from codex.errors import ProviderError
from codex.wire import ContextWindowExceeded, RetryableError

if TYPE_CHECKING:
    import asyncio
    from datetime import datetime

    import httpx2

    from codex.config.model import ModelProviderInfo

    # What ``ClientCache.get`` hands out and ``post_sse``/``post_stream`` accept.
    HTTPClient: TypeAlias = httpx2.AsyncClient

ORIGINATOR = "codex_py"
_BOM = b"\xef\xbb\xbf"
# Error bodies are read for their message only; a runaway body must not eat memory.
_MAX_ERROR_BODY = 64 * 1024
# Codes a server puts in a 429 body or a failed stream event that retrying cannot fix.
_FATAL_CODES = frozenset(
    {"insufficient_quota", "context_length_exceeded", "invalid_prompt", "billing_not_active"}
)
# Codes of in-stream failures that a later attempt may not see.
_RETRYABLE_CODES = frozenset(
    {"rate_limit_exceeded", "server_error", "internal_error", "overloaded", "server_is_overloaded",
     "slow_down", "service_unavailable", "timeout"}
)
# How servers word a request longer than the model's window (OpenAI, vLLM, llama.cpp, LM Studio).
_CONTEXT_LENGTH_CODE = "context_length_exceeded"
_CONTEXT_LENGTH_WORDS = re.compile(
    r"maximum context length|context[ _]length[ _]exceeded|exceeds? the (?:model's )?context (?:window|length)"
    r"|context window (?:of this model )?(?:is )?exceeded",
    re.IGNORECASE,
)
_TRY_AGAIN = re.compile(r"try again in\s*(\d+(?:\.\d+)?)\s*(ms|s|seconds?)\b", re.IGNORECASE)


@cache
def user_agent() -> str:
    """``codex-py/<version> (<os> <release>; <arch>) python/<version>``, sent on every request."""
    from codex import __version__

    # What platform.system()/release()/machine() read on POSIX, without importing platform (~3 ms).
    uname = os.uname() if hasattr(os, "uname") else None
    system = f"{uname.sysname} {uname.release}" if uname else sys.platform
    arch = (uname.machine if uname else "") or "unknown"
    return f"codex-py/{__version__} ({system}; {arch}) python/{sys.version.split()[0]}"


def provider_label(provider: ModelProviderInfo) -> str:
    """How error messages name a provider: its display name, else its id."""
    return repr(provider.name or provider.id or provider.base_url or "(unnamed provider)")


def endpoint_url(provider: ModelProviderInfo, path: str) -> str:
    """``{base_url}/{path}`` with the provider's ``query_params`` merged into the query string.

    A ``base_url`` may itself carry a query (``...?api-version=...``); it is kept.
    """
    if not provider.base_url:
        ident = provider.id or "<id>"
        raise ProviderError(
            f"provider {provider_label(provider)} has no base_url; set model_providers.{ident}.base_url "
            "in config.toml (for example https://api.openai.com/v1)"
        )
    parts = urlsplit(provider.base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProviderError(
            f"provider {provider_label(provider)} has an invalid base_url {provider.base_url!r}; "
            "expected an http:// or https:// URL such as https://api.openai.com/v1"
        )
    full_path = parts.path.rstrip("/") + "/" + path.lstrip("/")
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend((provider.query_params or {}).items())
    return urlunsplit((parts.scheme, parts.netloc, full_path, urlencode(query), ""))


def request_headers(provider: ModelProviderInfo, *, session_id: str | None = None) -> dict[str, str]:
    """Headers for a streaming POST: auth from ``env_key``, the provider's headers, identity.

    A missing ``env_key`` variable raises ``ProviderError`` naming it (``api_key()``).
    ``env_http_headers`` maps a header to an environment variable; it is sent only when set.
    """
    headers = {
        "User-Agent": user_agent(),
        "originator": ORIGINATOR,
        "Accept": "text/event-stream",
        "Content-Type": "application/json",
    }
    key = provider.api_key()
    if key:
        headers["Authorization"] = f"Bearer {key}"
    headers.update(provider.http_headers or {})
    for header, variable in (provider.env_http_headers or {}).items():
        value = os.environ.get(variable, "").strip()
        if value:
            headers[header] = value
    if session_id:
        headers["session_id"] = session_id
    return headers


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, or ``Retry-After`` as seconds or
    an HTTP date. None when absent or unreadable (the caller falls back to backoff)."""
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    lowered = {name.lower(): value for name, value in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_delay_from_message(message: str) -> float | None:
    """The delay in a rate-limit message such as "Please try again in 1.5s" (OpenAI's wording)."""
    match = _TRY_AGAIN.search(message)
    if match is None:
        return None
    amount = float(match.group(1))
    return amount / 1000.0 if match.group(2).lower() == "ms" else amount


def server_error_details(body: bytes | str) -> tuple[str, str | None]:
    """(message, code) from an error body: OpenAI-style ``{"error": {"message", "code"}}``,
    ``{"error": "..."}``, ``{"message": ...}``, or the text itself (shortened)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data: Any = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, str) and error:
            return error, None
        if isinstance(error, dict):
            code = error.get("code") or error.get("type")
            message = error.get("message")
            if isinstance(message, str) and message:
                return message, code if isinstance(code, str) else None
    text = " ".join(text.split())
    if not text:
        return "(empty response body)", None
    return (text[:300] + "…" if len(text) > 300 else text), None


def error_for_status(
    provider: ModelProviderInfo, status: int, headers: Mapping[str, str], body: bytes
) -> ProviderError:
    """The exception for a non-2xx answer: retryable for 429 and 5xx, final for other 4xx.

    401/403 name the provider and the variable the key comes from, since that is nearly
    always the fix.
    """
    import http

    message, code = server_error_details(body)
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    label = provider_label(provider)
    what = f"HTTP {status} {phrase} from {label}: {message}"
    if status in (401, 403):
        if provider.env_key:
            fix = f"Check the API key in the environment variable {provider.env_key}."
            if provider.env_key_instructions:
                fix += f" {provider.env_key_instructions}"
        else:
            ident = provider.id or "<id>"
            fix = (
                f"The provider sends no key: set model_providers.{ident}.env_key (or an Authorization "
                "header in http_headers) in config.toml."
            )
        return ProviderError(
            f"{label} rejected the credentials (HTTP {status} {phrase}): {_sentence(message)} {fix}"
        )
    if status == 400 and _says_context_too_long(message, code):
        return ContextWindowExceeded(what)
    if status == 429 and code in _FATAL_CODES:
        return ProviderError(f"{_sentence(what)} Check your plan and billing details with the provider.")
    if status == 429 or status >= 500:
        delay = parse_retry_after(headers)
        if delay is None and status == 429:
            delay = retry_delay_from_message(message)
        return RetryableError(what, retry_after=delay)
    return ProviderError(what)


def error_for_event(provider: ModelProviderInfo, message: str, code: str | None) -> ProviderError:
    """The exception for an error reported inside a stream (``response.failed``, ``error``):
    retryable (as a stream retry) for rate limits and overload, final otherwise."""
    label = provider_label(provider)
    text = f"{label} reported an error: {message}" + (f" ({code})" if code else "")
    if _says_context_too_long(message, code):
        return ContextWindowExceeded(text)
    if code in _RETRYABLE_CODES or (code is None and retry_delay_from_message(message) is not None):
        return RetryableError(text, retry_after=retry_delay_from_message(message), started=True)
    return ProviderError(text)


def _says_context_too_long(message: str, code: str | None) -> bool:
    return code == _CONTEXT_LENGTH_CODE or (code is None and _CONTEXT_LENGTH_WORDS.search(message) is not None)


def describe_transport_error(exc: BaseException) -> str:
    """A one-line description of a transport error, named by its class
    (``ConnectError: connection refused by ...``); some httpx2 errors have an empty ``str()``."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class SSEDecoder:
    """Incremental server-sent-events framing over raw bytes, per the WHATWG spec.

    ``feed(chunk)`` returns the events completed by ``chunk`` as ``(event name, data)``; the
    name is ``"message"`` when the server sends none, and several ``data:`` lines join with
    ``\\n``. Lines may end in LF, CRLF or a lone CR; comments (``:...``), stray blank lines,
    ``id`` and ``retry`` are skipped; an event without data is not dispatched; a leading BOM is
    dropped; an unterminated event at the end of the stream is discarded.

    It frames on bytes and decodes each event's data once, so a chunk boundary anywhere
    (inside a UTF-8 character, inside ``data:``, between CR and LF) is harmless; and it works
    per event, not per line, which makes it several times cheaper than line-by-line parsing.
    """

    __slots__ = ("_pending", "_skip_lf", "_started")

    def __init__(self) -> None:
        self._pending: list[bytes] = []
        # The previous chunk ended in CR: a LF starting the next one belongs to that CR.
        self._skip_lf = False
        self._started = False

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        """Consume ``chunk``; return the events it completes, in order."""
        if not self._started:
            # A byte-order mark may open the stream, possibly split across chunks itself.
            head = b"".join(self._pending) + chunk
            if len(head) < 3 and _BOM.startswith(head):
                self._pending = [head] if head else []
                return []
            self._started = True
            self._pending = []
            chunk = head[3:] if head.startswith(_BOM) else head
        if self._skip_lf:
            self._skip_lf = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._skip_lf = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not chunk:
            return []
        pending = self._pending
        # Only a blank line completes an event: skip the join and split until one arrives.
        if b"\n\n" not in chunk and not (chunk[0] == 10 and pending and pending[-1].endswith(b"\n")):
            pending.append(chunk)
            return []
        if pending:
            pending.append(chunk)
            chunk = b"".join(pending)
            pending.clear()
        blocks = chunk.split(b"\n\n")
        rest = blocks.pop()
        if rest:
            pending.append(rest)
        events: list[tuple[str, str]] = []
        for block in blocks:
            if block:
                event = _parse_block(block)
                if event is not None:
                    events.append(event)
        return events


def _parse_block(block: bytes) -> tuple[str, str] | None:
    """One event from the lines between two blank lines."""
    # Fast paths for what servers send nearly always: one data line (Chat Completions), or an
    # event line and one data line (Responses).
    first, newline, rest = block.partition(b"\n")
    if not newline:
        if first.startswith(b"data: "):
            return "message", first[6:].decode("utf-8", "replace")
    elif first.startswith(b"event: ") and rest.startswith(b"data: ") and b"\n" not in rest:
        return first[7:].decode("utf-8", "replace") or "message", rest[6:].decode("utf-8", "replace")
    name = "message"
    data: list[bytes] = []
    for line in block.split(b"\n"):
        if line.startswith(b"data:"):
            value = line[5:]
        elif not line or line.startswith(b":"):
            continue
        else:
            field, _, value = line.partition(b":")
            if field == b"event":
                name = (value[1:] if value.startswith(b" ") else value).decode("utf-8", "replace") or "message"
                continue
            if field != b"data":
                continue  # id, retry and unknown fields do not matter to a one-shot stream
        data.append(value[1:] if value.startswith(b" ") else value)
    if not data:
        return None
    return name, b"\n".join(data).decode("utf-8", "replace")


class ClientCache:
    """One ``httpx2.AsyncClient`` per event loop, created on first use and kept for its pool.

    A wire object outlives event loops (a test suite runs many), but a pooled connection
    belongs to the loop that opened it. The client honours the proxy variables
    (``https_proxy``/``http_proxy``/``all_proxy`` and ``NO_PROXY``) and the system's CA settings
    (``SSL_CERT_FILE``), except for a model server on this machine (Ollama, LM Studio), which is
    always reached directly. ``transport`` swaps the network for ``httpx2.MockTransport`` in
    unit tests. The clients never retry on their own (httpx2's default): a request is sent
    again only by the retry policy of ``codex.wire``.
    """

    def __init__(self, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self._transport = transport
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, HTTPClient]
        ] = weakref.WeakKeyDictionary()

    def get(self, base_url: str | None = None) -> HTTPClient:
        """The client for the running loop and ``base_url`` (HTTP/1.1, keep-alive, no redirects)."""
        import asyncio

        clients = self._clients.setdefault(asyncio.get_running_loop(), {})
        # Corporate proxies set for the internet must not break a model server on this machine,
        # whatever NO_PROXY says.
        direct = is_loopback(base_url or "")
        plain = urlsplit(base_url or "").scheme == "http"
        kind = ("direct" if direct else "environment") + ("-http" if plain else "")
        client = clients.get(kind)
        if client is None or client.is_closed:
            client = _new_client(self._transport, direct=direct, plain_http=plain)
            clients[kind] = client
        return client

    async def aclose(self) -> None:
        """Close the running loop's clients and their pooled connections."""
        import asyncio

        for client in self._clients.pop(asyncio.get_running_loop(), {}).values():
            await client.aclose()


def _new_client(
    transport: httpx2.AsyncBaseTransport | None, *, direct: bool, plain_http: bool = False
) -> httpx2.AsyncClient:
    """An httpx2 client that reads SSL_CERT_FILE/SSL_CERT_DIR and, unless ``direct``, the proxy
    variables. A certificate file that cannot be loaded is a ``ProviderError`` that names it.

    ``plain_http`` and ``direct``: the client is for a server on this machine that speaks plain
    HTTP (Ollama, a local model server), so it loads no certificates (~20 ms per process) and
    refuses https:// URLs rather than reach one unverified.
    """
    import ssl

    import httpx2

    # Mounting no transport on every scheme replaces the proxies trust_env found with the
    # client's own transport, while trust_env still supplies the trusted certificates.
    mounts: dict[str, httpx2.AsyncBaseTransport | None] | None = (
        {"all://": None, "http://": None, "https://": None} if direct else None
    )
    # A server on this machine that speaks plain HTTP (never proxied, so no proxy needs TLS
    # either); elsewhere a given transport would turn off the proxies from the environment.
    without_tls = plain_http and direct and transport is None
    if without_tls:
        mounts = {**(mounts or {}), "https://": _https_refused()}
        transport = httpx2.AsyncHTTPTransport(verify=False)  # https:// never reaches it
    try:
        return httpx2.AsyncClient(transport=transport, mounts=mounts, timeout=None, follow_redirects=False)
    except (OSError, ssl.SSLError) as exc:
        names = ("SSL_CERT_FILE", "SSL_CERT_DIR")
        where = ", ".join(f"{name}={os.environ[name]}" for name in names if name in os.environ)
        raise ProviderError(
            f"cannot load the trusted certificates ({where or 'the system default'}): {exc}. "
            "Point SSL_CERT_FILE at a readable PEM bundle, or unset it."
        ) from None


def _https_refused() -> httpx2.AsyncBaseTransport:
    """Mounted on https:// in a client made for a plain-HTTP server, which has no certificates."""
    import httpx2

    class HttpsRefused(httpx2.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            raise httpx2.UnsupportedProtocol(
                f"{request.url}: this client was made for a plain-HTTP server and checks no certificates; "
                "get a client for the https:// URL from ClientCache.get(url)"
            )

    return HttpsRefused()


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine (``localhost`` or a loopback address)."""
    import ipaddress

    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def post_sse(
    client: HTTPClient,
    provider: ModelProviderInfo,
    path: str,
    body: dict[str, Any],
    *,
    session_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> AsyncGenerator[tuple[str, str], None]:
    """POST ``body`` as JSON to ``{base_url}/{path}`` and yield each server-sent event as
    ``(event name, data)`` (the name is ``"message"`` when the server sends none).

    ``headers`` replaces ``request_headers(provider)`` for an API that wants its key or version
    in headers of its own (the Anthropic example sends ``x-api-key``).

    Every read waits at most ``stream_idle_timeout_ms``. Failures before the stream starts raise
    ``RetryableError`` (429, 5xx, transport) or ``ProviderError``; failures after it started
    raise ``RetryableError(started=True)``. This makes ONE attempt: retrying is
    ``stream_with_retries``'s job.
    """
    url = endpoint_url(provider, path)
    if headers is None:
        headers = request_headers(provider, session_id=session_id)
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    decoder = SSEDecoder()
    chunks = post_stream(
        client, provider, url, headers, content, expect=("text/event-stream", "an event stream")
    )
    try:
        async for chunk in chunks:
            for event in decoder.feed(chunk):
                yield event
    finally:
        await chunks.aclose()


async def post_stream(
    client: HTTPClient,
    provider: ModelProviderInfo,
    url: str,
    headers: Mapping[str, str],
    content: bytes,
    *,
    connect_timeout: float = 30.0,
    expect: tuple[str, str] | None = None,
) -> AsyncGenerator[bytes, None]:
    """POST ``content`` to ``url`` and yield the body of a 2xx answer as it arrives, in pieces.

    The streaming core of ``post_sse``, for wires with another framing (Ollama's NDJSON)::

        chunks = post_stream(client, provider, url, headers, body, connect_timeout=10.0)

    Connecting waits at most ``connect_timeout`` (and the idle timeout), every read
    ``stream_idle_timeout_ms``. A status >= 300 raises ``error_for_status`` with the server's
    message; ``expect=(media type, description)`` rejects an answer of another content type
    (a wrong ``base_url`` reaching some web page); transport failures raise
    ``transport_failure``, marked started once the body began.
    """
    import httpx2

    idle = provider.stream_idle_timeout_ms / 1000.0
    connect = min(idle, connect_timeout)
    label = provider_label(provider)
    timeout = httpx2.Timeout(connect=connect, read=idle, write=max(idle, 30.0), pool=max(idle, 30.0))
    opened = client.stream("POST", url, headers=headers, content=content, timeout=timeout)
    try:
        async with opened as response:
            if response.status_code >= 300:
                body_start = await _read_some(response)
                raise error_for_status(provider, response.status_code, response.headers, body_start)
            if expect is not None:
                content_type = response.headers.get("content-type", "")
                if expect[0] not in content_type:
                    message, _ = server_error_details(await _read_some(response))
                    raise ProviderError(
                        f"{label} answered {url} with {content_type or 'no content type'} instead of "
                        f"{expect[1]} ({expect[0]}): {message}. Check base_url and wire_api for this provider."
                    )
            try:
                async for chunk in response.aiter_bytes():
                    yield chunk
            except httpx2.TransportError as exc:
                raise transport_failure(exc, label, url, idle, started=True) from None
    except httpx2.TransportError as exc:
        raise transport_failure(exc, label, url, idle, started=False) from None


def transport_failure(exc: Exception, label: str, url: str, idle: float, *, started: bool) -> ProviderError:
    """The error for a network failure, worded by when it happened: retryable, but for a TLS
    certificate that is not trusted.

    Before the stream started: the server could not be reached or did not answer in time. After:
    the stream stalled past ``stream_idle_timeout_ms`` or broke off (the attempt is void).
    """
    import httpx2

    timed_out = isinstance(exc, TimeoutError | httpx2.TimeoutException)
    if not started and "CERTIFICATE_VERIFY_FAILED" in str(exc):
        # Retrying cannot make a certificate trusted.
        return ProviderError(
            f"could not reach {label} at {url}: the server's TLS certificate is not trusted "
            f"({describe_transport_error(exc)}); if it is signed by your own CA, set SSL_CERT_FILE to a "
            "bundle that holds it"
        )
    if started and timed_out:
        message = f"the stream from {label} was idle for more than {_seconds(idle)} (stream_idle_timeout_ms)"
    elif started:
        message = f"the stream from {label} broke off: {describe_transport_error(exc)}"
    elif timed_out:
        message = f"no answer from {label} at {url} in time ({describe_transport_error(exc)})"
    else:
        message = f"could not reach {label} at {url}: {describe_transport_error(exc)}"
    return RetryableError(message, started=started)


async def finish_sse(events: AsyncGenerator[tuple[str, str], None], grace_seconds: float = 0.2) -> None:
    """Read what is left of a stream whose answer is complete, then close it.

    A response read to its end hands its keep-alive connection back to the pool; one closed
    early costs the next turn a new connection (and a TLS handshake). The tail (the chunked
    terminator, maybe a ``[DONE]``) normally arrives with the last event; a server that keeps
    the stream open longer than ``grace_seconds`` just loses the reuse.
    """
    import asyncio

    async def rest() -> None:
        async for _ in events:
            pass

    try:
        await asyncio.wait_for(rest(), grace_seconds)
    except (TimeoutError, ProviderError):
        pass
    finally:
        await events.aclose()


def _sentence(text: str) -> str:
    words = text.rstrip()
    return words if words.endswith((".", "!", "?")) else words + "."


def _seconds(value: float) -> str:
    return f"{value:g} s"


async def _read_some(response: httpx2.Response) -> bytes:
    """Up to ``_MAX_ERROR_BODY`` bytes of a response body (error bodies are for their message)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= _MAX_ERROR_BODY:
            break
    return b"".join(chunks)[:_MAX_ERROR_BODY]
