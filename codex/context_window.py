"""How much the model can read at once, how much a session uses, and the tool output budget.

Pure data and arithmetic (no I/O, nothing heavy imported), so the session asks it before every
request. Three things live here:

- ``context_window_for``: the window of a provider and model. ``model_context_window`` in
  config.toml wins; then the provider entry's ``context_window`` (a plugin declares it in
  ``codex_model_providers``, the ``oss`` flow fills in its fixed ``num_ctx``); then the known
  OpenAI and gpt-oss models below; else unknown (no automatic compaction, only the recovery
  from a provider's context-length error).
- ``ContextTracker``: tokens the next request will carry. The wire's reported usage anchors it
  after every response; items added since (tool outputs, the next user message) are estimated
  at 4 bytes per token. That estimate is rough, but it only decides *when* to compact: the
  default threshold leaves a fifth of the window free, the error is bounded by one round of new
  items (the next usage report re-anchors it), and a provider that still refuses the request
  triggers one compaction and a retry.
- ``truncate_for_model``: the head and tail of a tool's output that fit a token budget, with a
  marker saying how much was left out. The full output stays in the history and the rollout;
  only what is sent to the model is cut, the same way on every request (a stable prefix).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codex.config.model import Config, ModelProviderInfo
    from codex.protocol import InputItem, Prompt, TokenUsage

# Known windows (input tokens), from OpenAI's model pages; the peer uses the same numbers.
# gpt-oss shares 131,072 tokens between input and output; like the peer we give input 3/4.
_KNOWN_WINDOWS: dict[str, int] = {
    "gpt-oss-20b": 96_000,
    "gpt-oss-120b": 96_000,
    "gpt-oss:20b": 96_000,
    "gpt-oss:120b": 96_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "codex-mini-latest": 200_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.1-2025-04-14": 1_047_576,
    "gpt-4o": 128_000,
    "gpt-4o-2024-05-13": 128_000,
    "gpt-4o-2024-08-06": 128_000,
    "gpt-4o-2024-11-20": 128_000,
    "gpt-3.5-turbo": 16_385,
}
# Families by prefix: gpt-5 has 400k in all, of which 128k may be output.
_KNOWN_PREFIXES: tuple[tuple[str, int], ...] = (("gpt-5", 272_000), ("codex-", 272_000))

# The default compaction threshold, as a fraction of the window: room for the model's answer
# and one more round of (budgeted) tool output before the provider would refuse.
AUTO_COMPACT_FRACTION = 0.8
# The default tool output budget: a 16th of the window, at most 10,000 tokens (the peer's cap).
TOOL_OUTPUT_WINDOW_SHARE = 16
TOOL_OUTPUT_MAX_TOKENS = 10_000
# Without a known window, one command's output is bounded at this many tokens.
TOOL_OUTPUT_FALLBACK_TOKENS = 10_000
BYTES_PER_TOKEN = 4
# Per item: the role, type and call id fields a wire wraps around the text.
_ITEM_OVERHEAD_TOKENS = 8


def known_context_window(model: str) -> int | None:
    """The window of a well-known model (a ``vendor/`` prefix is ignored), or None."""
    name = model.strip().lower().rsplit("/", 1)[-1]
    if name in _KNOWN_WINDOWS:
        return _KNOWN_WINDOWS[name]
    for prefix, window in _KNOWN_PREFIXES:
        if name.startswith(prefix):
            return window
    return None


def context_window_for(config: Config, provider: ModelProviderInfo, model: str) -> int | None:
    """The session's context window in tokens: config, then provider entry, then known models."""
    if config.model_context_window:
        return config.model_context_window
    if provider.context_window:
        return provider.context_window
    return known_context_window(model)


def auto_compact_limit_for(config: Config, window: int | None) -> int | None:
    """Tokens above which the next request compacts first (None: never automatically)."""
    if config.model_auto_compact_token_limit:
        limit = config.model_auto_compact_token_limit
        return min(limit, window) if window else limit
    return int(window * AUTO_COMPACT_FRACTION) if window else None


def tool_output_budget_for(config: Config, window: int | None) -> int:
    """Tokens of one tool's output that go back to the model."""
    if config.tool_output_token_limit is not None:
        return config.tool_output_token_limit
    if window:
        return max(256, min(TOOL_OUTPUT_MAX_TOKENS, window // TOOL_OUTPUT_WINDOW_SHARE))
    return TOOL_OUTPUT_FALLBACK_TOKENS


# ---------------------------------------------------------------------------- estimates


def estimate_text_tokens(text: str) -> int:
    """Tokens of ``text`` at 4 bytes per token (rounded up)."""
    return -(-len(text.encode("utf-8", "replace")) // BYTES_PER_TOKEN)


# What one input image costs at most on OpenAI's vision models (6 tiles of 170 plus 85 at high
# detail): counted whole, since an image's bytes say little about its tokens.
IMAGE_TOKENS = 1_105


def estimate_item_tokens(item: InputItem) -> int:
    """Tokens of one history item as a wire sends it."""
    from codex.protocol import (
        CustomToolCall,
        CustomToolCallOutput,
        FunctionCall,
        FunctionCallOutput,
        Message,
        Reasoning,
    )

    if isinstance(item, Message):
        size = estimate_text_tokens(item.text) + IMAGE_TOKENS * len(item.images)
    elif isinstance(item, FunctionCall):
        size = estimate_text_tokens(item.name) + estimate_text_tokens(item.arguments)
    elif isinstance(item, CustomToolCall):
        size = estimate_text_tokens(item.name) + estimate_text_tokens(item.input)
    elif isinstance(item, FunctionCallOutput | CustomToolCallOutput):
        size = estimate_text_tokens(item.output)
    elif isinstance(item, Reasoning):
        parts = [*item.summary, *(item.content or []), item.encrypted_content or ""]
        size = sum(estimate_text_tokens(part) for part in parts)
    else:  # an item type added later: count its text fields as they are serialised
        size = estimate_text_tokens(repr(item))
    return size + _ITEM_OVERHEAD_TOKENS


def estimate_prompt_tokens(prompt: Prompt) -> int:
    """Tokens of a whole request: instructions, tool declarations and input items."""
    import json

    tools = json.dumps([[t.name, t.description, t.parameters] for t in prompt.tools], separators=(",", ":"))
    fixed = estimate_text_tokens(prompt.instructions) + estimate_text_tokens(tools)
    return fixed + sum(estimate_item_tokens(item) for item in prompt.input)


# ---------------------------------------------------------------------------- the tracker


@dataclass
class ContextTracker:
    """What the session knows about its context: window, threshold, and tokens in use.

    ``anchor(history_length, usage)`` is called when a response completes with usage: the
    request's input plus the answer is what the history held at that length. ``tokens_for``
    then adds estimates of the items recorded since.
    """

    window: int | None
    auto_compact_limit: int | None
    tool_output_budget: int
    # (history length, tokens) of the last response the wire reported usage for.
    _anchor: tuple[int, int] | None = None
    # The latest count, for faces ("NN% context left").
    used_tokens: int = 0

    @classmethod
    def for_session(cls, config: Config, provider: ModelProviderInfo, model: str) -> ContextTracker:
        """The tracker of a session's config, provider and model."""
        window = context_window_for(config, provider, model)
        return cls(window, auto_compact_limit_for(config, window), tool_output_budget_for(config, window))

    def retarget(self, config: Config, provider: ModelProviderInfo, model: str) -> None:
        """The model changed (``/model``): its window and threshold apply from the next request."""
        fresh = ContextTracker.for_session(config, provider, model)
        self.window, self.auto_compact_limit = fresh.window, fresh.auto_compact_limit
        self.tool_output_budget = fresh.tool_output_budget

    def anchor(self, history_length: int, usage: TokenUsage) -> None:
        """The wire reported ``usage`` for a request whose answer ends the history at this length."""
        tokens = usage.input_tokens + usage.output_tokens
        # A server that reports no input count (an older Ollama whose prompt came from its
        # cache) says nothing about the context: keep estimating.
        if usage.input_tokens > 0:
            self._anchor = (history_length, tokens)
            self.used_tokens = tokens

    def forget(self) -> None:
        """The history was replaced (compaction): estimates start over."""
        self._anchor = None

    def tokens_for(self, prompt: Prompt) -> int:
        """Tokens ``prompt`` will carry: anchored on reported usage where there is some."""
        anchor = self._anchor
        if anchor is not None and anchor[0] <= len(prompt.input):
            length, tokens = anchor
            tokens += sum(estimate_item_tokens(item) for item in prompt.input[length:])
        else:
            tokens = estimate_prompt_tokens(prompt)
        self.used_tokens = tokens
        return tokens

    def should_compact(self, tokens: int) -> bool:
        """Whether a request of ``tokens`` passes the automatic compaction threshold."""
        return self.auto_compact_limit is not None and tokens > self.auto_compact_limit

    def percent_left(self) -> int | None:
        """Share of the window still free, 0-100 (None when the window is unknown)."""
        if not self.window:
            return None
        return max(0, min(100, round(100 * (1 - self.used_tokens / self.window))))


# ---------------------------------------------------------------------------- tool output budget


def model_view(history: list[InputItem], budget_tokens: int) -> list[InputItem]:
    """``history`` as the model is sent it: each tool output over the budget cut to head and tail.

    Cut afresh for every request, the same way each time (the request prefix, and so the
    provider's prompt cache, stays stable); the history and the rollout keep the whole text.
    """
    from codex.protocol import CustomToolCallOutput, FunctionCallOutput

    view: list[InputItem] = []
    for item in history:
        # A string of n characters holds at most 4n bytes: one of <= budget characters fits.
        if isinstance(item, FunctionCallOutput | CustomToolCallOutput) and len(item.output) > budget_tokens:
            cut = truncate_for_model(item.output, budget_tokens)
            if cut is not item.output:
                if isinstance(item, FunctionCallOutput):
                    item = FunctionCallOutput(item.call_id, cut, item.success)
                else:
                    item = CustomToolCallOutput(item.call_id, cut)
        view.append(item)
    return view


def truncate_for_model(text: str, budget_tokens: int) -> str:
    """``text`` if it fits ``budget_tokens``; else its head and tail with a marker between.

    Cut at line ends where one is near, so the model sees whole lines; the marker says how
    many lines and bytes were left out, so the model can ask for them (``sed -n``, ``tail``).
    """
    budget_bytes = max(0, budget_tokens) * BYTES_PER_TOKEN
    data = text.encode("utf-8", "replace")
    if len(data) <= budget_bytes:
        return text
    half = budget_bytes // 2
    head = data[:half]
    tail = data[len(data) - half :] if half else b""
    newline = head.rfind(b"\n")
    if newline > half // 2:
        head = head[: newline + 1]
    newline = tail.find(b"\n")
    if 0 <= newline < half // 2:
        tail = tail[newline + 1 :]
    left_out = data[len(head) : len(data) - len(tail)]
    lines = left_out.count(b"\n")
    marker = (
        f"\n[… {len(left_out):,} bytes ({lines:,} lines, about {-(-len(left_out) // BYTES_PER_TOKEN):,} tokens) "
        "of this output left out to save context; run a narrower command to see them …]\n"
    )
    return head.decode("utf-8", "ignore") + marker + tail.decode("utf-8", "ignore")
