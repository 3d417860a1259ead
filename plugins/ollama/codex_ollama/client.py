"""Asking a local model server what it is and what it has: Ollama and OpenAI-compatible ones.

Everything here is synchronous and short: startup runs before the first turn, and each probe
is bounded by a connect timeout of a second or two, so an absent server is noticed at once
instead of after the wire API's long request timeouts. ``transport`` swaps the network for
``httpx2.MockTransport`` in unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import httpx2

# A server on this machine answers a connect in microseconds; waiting longer only delays the
# "not running" message. Reads get more: a busy Ollama can take a moment to list its models.
CONNECT_TIMEOUT_SECONDS = 1.5
READ_TIMEOUT_SECONDS = 5.0
# Besides loopback: Docker's name for the host, and the any-address a server may report.
_LOCAL_NAMES = frozenset({"host.docker.internal", "0.0.0.0"})


def server_root(base_url: str) -> str:
    """The server's root URL from a provider ``base_url``: ``http://h:11434/v1`` -> ``http://h:11434``.

    Ollama's native endpoints live under ``/api`` beside the OpenAI-compatible ``/v1``.
    """
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/")
    for suffix in ("/v1", "/api"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return urlunsplit((parts.scheme or "http", parts.netloc, path, "", "")).rstrip("/")


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (only then may codex start a server for it)."""
    from codex.plugin import is_loopback as on_this_machine

    return (urlsplit(url).hostname or "").lower() in _LOCAL_NAMES or on_this_machine(url)


def model_matches(available: str, wanted: str) -> bool:
    """Whether a listed model is the wanted one; Ollama's implicit tag is ``latest``."""

    def norm(name: str) -> str:
        name = name.strip().lower()
        for prefix in ("registry.ollama.ai/library/", "library/"):
            if name.startswith(prefix):
                name = name[len(prefix):]
        return name if ":" in name.rsplit("/", 1)[-1] else name + ":latest"

    return norm(available) == norm(wanted)


@dataclass
class ServerStatus:
    """What a probe found: reachable or not, the version, the installed models, or why not."""

    url: str
    reachable: bool
    version: str | None = None
    models: list[str] = field(default_factory=list)
    error: str | None = None

    def has_model(self, wanted: str) -> bool:
        """Whether ``wanted`` is installed (``gpt-oss`` means ``gpt-oss:latest``)."""
        return any(model_matches(name, wanted) for name in self.models)


def _client(transport: httpx2.BaseTransport | None, read_timeout: float) -> httpx2.Client:
    import httpx2

    timeout = httpx2.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=read_timeout, write=read_timeout, pool=read_timeout)
    # Local servers never need a proxy, and a corporate HTTP(S)_PROXY would swallow localhost.
    return httpx2.Client(transport=transport, timeout=timeout, trust_env=False)


def _get_json(client: httpx2.Client, url: str) -> Any:
    response = client.get(url)
    response.raise_for_status()
    return response.json()


def probe_ollama(
    base_url: str, *, transport: httpx2.BaseTransport | None = None, read_timeout: float = READ_TIMEOUT_SECONDS
) -> ServerStatus:
    """Ask ``/api/version`` and ``/api/tags`` of the Ollama at ``base_url``; never raises.

    Example::

        status = probe_ollama("http://localhost:11434/v1")
        if status.reachable and not status.has_model("gpt-oss:20b"): ...
    """
    import httpx2

    root = server_root(base_url)
    try:
        with _client(transport, read_timeout) as client:
            version = _get_json(client, f"{root}/api/version")
            tags = _get_json(client, f"{root}/api/tags")
    except httpx2.HTTPStatusError as exc:
        return ServerStatus(root, False, error=f"HTTP {exc.response.status_code} from {exc.request.url}")
    except (httpx2.HTTPError, ValueError) as exc:
        return ServerStatus(root, False, error=_describe(exc))
    names: list[str] = []
    for entry in (tags or {}).get("models") or ():
        if isinstance(entry, dict):
            name = entry.get("name") or entry.get("model")
            if isinstance(name, str):
                names.append(name)
    return ServerStatus(root, True, version=str((version or {}).get("version") or "unknown"), models=names)


def probe_openai_compatible(
    base_url: str, *, transport: httpx2.BaseTransport | None = None, read_timeout: float = READ_TIMEOUT_SECONDS
) -> ServerStatus:
    """Ask ``{base_url}/models`` of an OpenAI-compatible server (LM Studio, vLLM, llama.cpp)."""
    import httpx2

    url = base_url.rstrip("/")
    try:
        with _client(transport, read_timeout) as client:
            data = _get_json(client, f"{url}/models")
    except httpx2.HTTPStatusError as exc:
        return ServerStatus(url, False, error=f"HTTP {exc.response.status_code} from {exc.request.url}")
    except (httpx2.HTTPError, ValueError) as exc:
        return ServerStatus(url, False, error=_describe(exc))
    names = [
        str(entry["id"]) for entry in (data or {}).get("data") or () if isinstance(entry, dict) and entry.get("id")
    ]
    return ServerStatus(url, True, models=names)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
