"""Pulling a model into Ollama with a real progress bar (``POST /api/pull``, ``stream: true``).

Ollama streams NDJSON: ``{"status": "pulling manifest"}``, then per layer
``{"status": "pulling 3f0a...", "digest": "sha256:...", "total": N, "completed": M}``, then
``verifying sha256 digest``, ``writing manifest`` and ``success``. A failed pull still answers
HTTP 200: the failure is a ``{"error": "..."}`` line inside the stream, so every line is checked.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from codex.plugin import CodexError, ProviderError
from codex_ollama.client import CONNECT_TIMEOUT_SECONDS, server_root
from codex_ollama.interrupt import interruptible

if TYPE_CHECKING:
    import httpx2

    from codex.plugin import Progress, ProviderUI

# Ollama reports progress several times a second while downloading, but verifying the sha256
# of a 13 GB layer is silent for a while on a slow disk: allow minutes, not forever.
PULL_IDLE_TIMEOUT_SECONDS = 300.0
MODEL_LIBRARY_URL = "https://ollama.com/library"


class PullError(ProviderError):
    """A model pull failed; the message says why and what to do."""


class PullInterrupted(CodexError):
    """The person pressed Ctrl-C during a pull (exit status 130, as shells report SIGINT)."""

    exit_code = 130


def pull_model(
    base_url: str,
    model: str,
    ui: ProviderUI,
    *,
    transport: httpx2.BaseTransport | None = None,
    idle_timeout: float = PULL_IDLE_TIMEOUT_SECONDS,
) -> None:
    """Pull ``model`` into the Ollama at ``base_url``, showing bytes, percent, speed and ETA.

    Raises ``PullError`` for a failure reported in the stream or over HTTP (unknown model, no
    disk space, network), ``PullInterrupted`` on Ctrl-C. Ollama keeps the layers it finished,
    so running again resumes::

        pull_model("http://localhost:11434/v1", "gpt-oss:20b", StderrUI())
    """
    import httpx2

    root = server_root(base_url)
    url = f"{root}/api/pull"
    timeout = httpx2.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=idle_timeout, write=30.0, pool=30.0)
    tracker = _PullTracker(model)
    progress = ui.progress(f"pulling {model}")
    finished = False
    try:
        with interruptible(), httpx2.Client(transport=transport, timeout=timeout, trust_env=False) as client:
            body = {"model": model, "name": model, "stream": True}
            with client.stream("POST", url, json=body) as response:
                if response.status_code >= 300:
                    raise PullError(explain_pull_error(model, _error_text(response), tracker.total))
                for line in response.iter_lines():
                    if tracker.feed(line, progress):
                        finished = True
                        break
    except KeyboardInterrupt:
        progress.close()
        raise PullInterrupted(
            f"stopped pulling {model} ({tracker.describe_done()}). Ollama keeps the layers it has "
            "downloaded: run the same command again to resume."
        ) from None
    except httpx2.TimeoutException:
        progress.close()
        raise PullError(
            f"Ollama at {root} sent no progress for {idle_timeout:g} s while pulling {model} "
            f"({tracker.describe_done()}). Check its log and the network, then run again to resume."
        ) from None
    except httpx2.TransportError as exc:
        progress.close()
        raise PullError(
            f"lost the connection to Ollama at {root} while pulling {model} ({tracker.describe_done()}): "
            f"{type(exc).__name__}: {exc}. Check that `ollama serve` is still running, then run again to resume."
        ) from None
    except PullError:
        progress.close()
        raise
    if not finished:
        progress.close()
        raise PullError(
            f"Ollama at {root} ended the pull of {model} without reporting success ({tracker.describe_done()}). "
            "Run again to resume; if it keeps happening, check Ollama's log."
        )
    progress.close(f"pulled {model} ({_gigabytes(tracker.total)}) in {tracker.elapsed()}")


class _PullTracker:
    """Sums per-layer progress and turns stream lines into progress updates or errors."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.layers: dict[str, tuple[int, int]] = {}
        self.started = time.monotonic()

    @property
    def total(self) -> int:
        return sum(total for _, total in self.layers.values())

    @property
    def completed(self) -> int:
        return sum(min(done, total) for done, total in self.layers.values())

    def feed(self, line: str, progress: Progress) -> bool:
        """Handle one NDJSON line; True once Ollama said ``success``."""
        line = line.strip()
        if not line:
            return False
        try:
            event: Any = json.loads(line)
        except ValueError:
            raise PullError(
                f"Ollama sent an unreadable progress line while pulling {self.model}: {line[:120]!r}"
            ) from None
        if not isinstance(event, dict):
            return False
        if event.get("error"):
            raise PullError(explain_pull_error(self.model, str(event["error"]), self.total))
        status = str(event.get("status") or "")
        digest = event.get("digest")
        if isinstance(digest, str) and digest and isinstance(event.get("total"), int):
            self.layers[digest] = (int(event.get("completed") or 0), int(event["total"]))
        progress.update(self.completed, self.total or None, status)
        return status == "success"

    def describe_done(self) -> str:
        if not self.total:
            return "nothing downloaded yet"
        return f"{_gigabytes(self.completed)} of {_gigabytes(self.total)} downloaded"

    def elapsed(self) -> str:
        minutes, seconds = divmod(int(time.monotonic() - self.started), 60)
        return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def explain_pull_error(model: str, message: str, total_bytes: int = 0) -> str:
    """A message for a failed pull that says what went wrong and what to do about it."""
    lowered = message.lower()
    if any(s in lowered for s in ("no space left", "not enough space", "disk full", "insufficient space")):
        need = f" (the model needs about {_gigabytes(total_bytes)})" if total_bytes else ""
        return (
            f"not enough disk space to pull {model}{need}: {message}. Free space where Ollama keeps models "
            "(OLLAMA_MODELS, by default ~/.ollama/models), then run again: the download resumes."
        )
    if any(s in lowered for s in ("file does not exist", "manifest unknown", "not found", "unknown model")):
        return (
            f"Ollama does not know the model {model!r}: {message}. Check the name and tag at "
            f"{MODEL_LIBRARY_URL} (gpt-oss comes as gpt-oss:20b and gpt-oss:120b) and pass it with -m."
        )
    network = (
        "dial tcp", "no such host", "lookup ", "connection refused", "connection reset", "i/o timeout",
        "tls", "certificate", "timeout", "network is unreachable", "eof", "temporary failure",
    )
    if any(s in lowered for s in network):
        return (
            f"Ollama could not download {model}: {message}. Check the internet connection (and a proxy: the "
            "Ollama server reads HTTPS_PROXY), then run again: the download resumes where it stopped."
        )
    return f"pulling {model} failed: {message}. Run again to resume; see Ollama's log if it persists."


def _error_text(response: httpx2.Response) -> str:
    raw = response.read()[:4096]
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    text = raw.decode("utf-8", "replace").strip()
    return f"HTTP {response.status_code}: {text or response.reason_phrase}"


def _gigabytes(count: int) -> str:
    from codex.plugin import format_bytes

    return format_bytes(count)
