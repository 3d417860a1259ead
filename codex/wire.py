"""The seam between the engine and a model API: the ``WireApi`` protocol and its errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from codex.errors import CodexError, ProviderError

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

    The events a wire must and may yield, their order, and what each error means are written
    down in docs/wire-contract.md; in short: optional ``Created``, then deltas, an
    ``OutputItemDone`` for every complete item (an assistant ``Message`` for any streamed text),
    and ``Completed`` last. The core enforces it (a violation is a ``ProviderError`` naming the
    wire and its plugin), and ``codex.testing.check_wire`` checks a wire against scripted server
    answers from pytest.
    """

    name: str

    def stream(self, prompt: Prompt, provider: ModelProviderInfo) -> AsyncIterator[ResponseEvent]:
        """Send ``prompt`` to ``provider`` and yield its events until ``Completed``."""
        ...


class LazyWireApi:
    """A registered wire API whose module is imported when a session first streams through it.

    A plugin offering several wire formats would otherwise import all of them on every run,
    although a session uses one::

        @hookimpl
        def codex_wire_apis():
            return {"chat": LazyWireApi("chat", "my_plugin.chat:ChatApi")}

    ``reference`` names a class (or factory) called without arguments.
    """

    def __init__(self, name: str, reference: str) -> None:
        self.name = name
        self.reference = reference
        self._wire: WireApi | None = None

    def resolve(self) -> WireApi:
        """The wire API itself (imported and created on first use)."""
        if self._wire is None:
            from codex.references import load_reference

            try:
                factory = load_reference(self.reference)
            except (ImportError, AttributeError) as exc:
                raise ProviderError(f"wire API {self.name!r}: cannot load {self.reference!r}: {exc}") from exc
            self._wire = factory()
        return self._wire

    def stream(self, prompt: Prompt, provider: ModelProviderInfo) -> AsyncIterator[ResponseEvent]:
        """The wire API's ``stream``."""
        return self.resolve().stream(prompt, provider)

    async def aclose(self) -> None:
        """Close the wire API's connections, if it was ever used and keeps any."""
        aclose: Callable[[], Awaitable[None]] | None = getattr(self._wire, "aclose", None)
        if aclose is not None:
            await aclose()


class RetryableError(ProviderError):
    """A failure that a later attempt may not see; ``retry_after`` is the server's hint."""

    def __init__(self, message: str, retry_after: float | None = None, *, started: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # True when events of this attempt already reached the consumer (a stream retry).
        self.started = started


class ContextWindowExceeded(ProviderError):
    """The provider refused the request because it does not fit the model's context window.

    Not retried as it is: the session compacts the conversation once and sends it again. A
    wire raises it for OpenAI's ``context_length_exceeded`` (HTTP 400 body or a failed stream
    event); ``error_for_status``/``error_for_event`` do that for wires that use them.
    """


# Backoff starts at 200 ms and doubles per failure, with +-10 % jitter so that many clients
# hit by the same outage do not come back in lockstep.
_BACKOFF_BASE_SECONDS = 0.2
_BACKOFF_CAP_SECONDS = 30.0
# A server may ask for a longer pause than anyone wants to stare at; beyond this we give up
# with its hint instead of sleeping silently.
_MAX_RETRY_AFTER_SECONDS = 120.0


def backoff_delay(failures: int, retry_after: float | None = None, *, jitter: float | None = None) -> float:
    """Seconds to wait before the next attempt after ``failures`` consecutive failures.

    The server's ``retry_after`` wins when it gave one; otherwise 200 ms doubled per failure
    (capped at 30 s) times a jitter factor in [0.9, 1.1].
    """
    if retry_after is not None:
        return max(0.0, retry_after)
    if jitter is None:
        import random  # only after a failure: random costs start-up for nothing otherwise

        jitter = random.uniform(0.9, 1.1)
    factor: float = jitter
    return min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2.0 ** max(0, failures - 1)) * factor


async def stream_with_retries(
    api: WireApi,
    prompt: Prompt,
    provider: ModelProviderInfo,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    owner: str = "",
) -> AsyncIterator[ResponseEvent]:
    """Stream one turn through ``api``, retrying what a later attempt may fix.

    Two budgets, as in the provider entry:

    - request retries (``request_max_retries``): the request never got a stream going (429,
      5xx, connection refused, no answer in time);
    - stream retries (``stream_max_retries``): the stream started and then dropped, stalled past
      ``stream_idle_timeout_ms``, sent a malformed event, or reported a retryable error. The
      whole turn is sent again.

    Before each retry a ``StreamRetrying`` event is yielded: the consumer discards every delta
    and item it received since the attempt began, so nothing is shown or acted on twice (and a
    UI can say why it is waiting). When a budget is spent, ``ProviderError`` is raised with one
    message naming the cause; ``ProviderError``s that retrying cannot fix propagate at once.

    The core, not each wire, bounds the wait for every event by the provider's
    ``stream_idle_timeout_ms`` (a stall is a retryable failure), and any other exception a wire
    lets through is a ``ProviderError`` naming the wire API and its plugin (``owner``)::

        async for event in stream_with_retries(api, prompt, provider):
            if isinstance(event, StreamRetrying):
                turn.discard_partial()
            ...
    """
    from codex.protocol import StreamRetrying

    request_failures = 0
    stream_failures = 0
    idle_seconds = provider.stream_idle_timeout_ms / 1000
    source = f"wire API {api.name!r}" + (f" (plugin {owner!r})" if owner else "")
    while True:
        yielded = False
        events: AsyncIterator[ResponseEvent] | None = None
        watch: _IdleWatch | None = None
        try:
            events = aiter(api.stream(prompt, provider))
            contract = _ContractCheck(source)
            watch = _IdleWatch(idle_seconds)
            while True:
                watch.waiting()
                try:
                    event = await anext(events)
                except StopAsyncIteration:
                    # Without Completed nobody knows whether the answer is whole: acting on it
                    # (or printing nothing and exiting 0) would hide a broken wire.
                    raise contract.violation("ended the stream without a Completed event") from None
                except asyncio.CancelledError:
                    if not watch.fired():
                        raise  # cancelled from outside (an interrupted turn): not ours to handle
                    raise RetryableError(
                        f"the stream from {provider.name or provider.id or 'the provider'!r} was idle for more "
                        f"than {idle_seconds:g} s (stream_idle_timeout_ms)",
                        started=yielded,
                    ) from None
                watch.got_event()
                finished = contract.check(event)
                yielded = True
                yield event
                if finished:
                    return  # Completed is the attempt's last word; nothing after it counts
        except RetryableError as exc:
            error: RetryableError = exc
        except (OSError, TimeoutError) as exc:
            # A third-party wire that let a raw socket error through: still a transport failure.
            error = RetryableError(f"{type(exc).__name__}: {exc}", started=yielded)
        except CodexError:
            raise
        except Exception as exc:
            # A bug in the wire: retrying would only repeat it; say whose it is.
            raise ProviderError(f"{source} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            if watch is not None:
                watch.close()
            close = getattr(events, "aclose", None)
            if close is not None:
                try:
                    await close()
                except Exception:  # closing a broken wire must not hide why it broke
                    pass

        if error.retry_after is not None and error.retry_after > _MAX_RETRY_AFTER_SECONDS:
            raise ProviderError(
                f"{_sentence(error)} The server asks to wait {error.retry_after:.0f} s before retrying, "
                "longer than codex waits on its own; try again later."
            )
        name = provider.name or provider.id or "the provider"
        if yielded or error.started:
            stream_failures += 1
            budget, failures = provider.stream_max_retries, stream_failures
            if failures > budget:
                raise ProviderError(
                    f"the stream from {name!r} failed {_attempts(failures)}; last error: {_sentence(error)} "
                    "Check the network or the provider's status, or raise "
                    "stream_max_retries / stream_idle_timeout_ms for this provider."
                )
        else:
            request_failures += 1
            budget, failures = provider.request_max_retries, request_failures
            if failures > budget:
                raise ProviderError(
                    f"the request to {name!r} failed {_attempts(failures)}; last error: {_sentence(error)} "
                    "Try again later, or raise request_max_retries for this provider."
                )
        delay = backoff_delay(failures, error.retry_after)
        yield StreamRetrying(attempt=failures, max_attempts=budget, reason=str(error), delay_seconds=delay)
        await sleep(delay)


class _IdleWatch:
    """Bounds the wait for each event of a stream by ``seconds`` with one timer per attempt.

    ``asyncio.timeout`` around every event costs ~4 µs each (a timer made and cancelled per
    delta, ~80 ms over a 20,000-delta answer); here an event costs a clock read. The timer
    wakes at the earliest moment the wait could have run out; if an event came since, it goes
    back to sleep until the new deadline. Time the consumer spends between events (while the
    stream is suspended at its ``yield``) does not count.
    """

    __slots__ = ("_fired", "_handle", "_loop", "_seconds", "_since", "_task")

    def __init__(self, seconds: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._seconds = seconds
        self._task = asyncio.current_task()
        self._since: float | None = None  # when the current wait began; None: not waiting
        self._fired = False
        self._handle = self._loop.call_at(self._loop.time() + seconds, self._check)

    def waiting(self) -> None:
        self._since = self._loop.time()

    def got_event(self) -> None:
        self._since = None

    def fired(self) -> bool:
        """Whether the cancellation came from this watch; if so, it is taken back (once)."""
        fired = self._fired
        if fired and self._task is not None:
            self._task.uncancel()
            self._fired = False
            self._task = None
        return fired

    def close(self) -> None:
        self._handle.cancel()
        self.fired()  # a wire that turned our cancellation into another error still owes it back

    def _check(self) -> None:
        now = self._loop.time()
        due = (self._since if self._since is not None else now) + self._seconds
        if self._since is not None and now >= due and self._task is not None:
            self._fired = True
            self._task.cancel()
            return
        self._handle = self._loop.call_at(due, self._check)


class _ContractCheck:
    """The cheap part of the wire contract, checked on every event one attempt yields."""

    __slots__ = ("protocol", "source", "unfinished_text")

    def __init__(self, source: str) -> None:
        # Imported once per turn, not per event: this runs for every streamed delta.
        from codex import protocol

        self.protocol = protocol
        self.source = source
        # Text was streamed that no assistant Message item has delivered yet.
        self.unfinished_text = False

    def check(self, event: object) -> bool:
        """Raise ``ProviderError`` if ``event`` breaks the contract; True when it ends the attempt."""
        p = self.protocol
        if isinstance(event, p.OutputTextDelta):
            if not self.unfinished_text and event.delta and not event.delta.isspace():
                self.unfinished_text = True
        elif isinstance(event, p.OutputItemDone):
            item = event.item
            if not isinstance(item, p.Message | p.Reasoning | p.FunctionCall | p.CustomToolCall):
                raise self.violation(
                    f"sent OutputItemDone with a {type(item).__name__}; the model's items are Message, "
                    "Reasoning, FunctionCall and CustomToolCall"
                )
            if isinstance(item, p.Message) and item.role == "assistant":
                self.unfinished_text = False
        elif isinstance(event, p.Completed):
            if self.unfinished_text:
                raise self.violation(
                    "streamed text (OutputTextDelta) but sent no OutputItemDone with the assistant Message "
                    "before Completed, so the answer would be lost"
                )
            return True
        elif not isinstance(event, p.Created | p.ReasoningSummaryDelta | p.ReasoningContentDelta):
            # StreamRetrying included: only the core knows when an attempt is void.
            raise self.violation(f"yielded {type(event).__name__}, which is not a wire event")
        return False

    def violation(self, what: str) -> ProviderError:
        return ProviderError(
            f"{self.source} {what}. This is a bug in the wire API, not in the model's answer: a wire must "
            "end every attempt with Completed or raise RetryableError/ProviderError (see docs/wire-contract.md); "
            "report it to the plugin's author."
        )


def _attempts(count: int) -> str:
    return "after 1 attempt (no retries allowed)" if count == 1 else f"on all {count} attempts"


def _sentence(text: object) -> str:
    """``text`` ending in exactly one full stop, so joined messages read as sentences."""
    words = str(text).rstrip()
    return words if words.endswith((".", "!", "?")) else words + "."
