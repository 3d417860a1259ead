"""The seam between the engine and a model API: the ``WireApi`` protocol and its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from codex.errors import ProviderError

if TYPE_CHECKING:
    from codex.config.model import ModelProviderInfo
    from codex.protocol import Prompt, ResponseEvent


@runtime_checkable
class WireApi(Protocol):
    """A streaming client for one wire format, registered through ``codex_wire_apis``.

    ``stream`` makes ONE attempt and yields events; it raises ``RetryableError`` for failures
    worth retrying (429, 5xx, transport errors, dropped or stalled streams, malformed events) and
    ``ProviderError`` for the rest. Retrying is the core's job (``stream_with_retries``), so every
    wire API, built-in or third-party, gets the same backoff and the same no-duplicates promise.
    """

    name: str

    def stream(self, prompt: Prompt, provider: ModelProviderInfo) -> AsyncIterator[ResponseEvent]:
        """Send ``prompt`` to ``provider`` and yield its events until ``Completed``."""
        ...


class RetryableError(ProviderError):
    """A failure that a later attempt may not see; ``retry_after`` is the server's hint."""

    def __init__(self, message: str, retry_after: float | None = None, *, started: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # True when events of this attempt already reached the consumer (a stream retry).
        self.started = started
