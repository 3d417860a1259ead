"""Compaction: a long conversation replaced by a summary the model writes of it.

The session sends an ordinary request (same instructions, same tools, the history as it is, so
the provider's prompt cache still hits) whose last message is ``SUMMARY_PROMPT``. If even that
request would not fit the window, the oldest items after the session's opening context are left
out of it (whole tool calls with their outputs, never half of one). The answer becomes the new
history::

    opening context (AGENTS.md, environment)   unchanged: the cache prefix survives
    the most recent user messages              what the person asked, in their words
    <summary_of_earlier_conversation>          the model's handover note
    <current_plan>                             the last update_plan, if there was one

Pure functions over items; the session does the request, the rollout and the events.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from codex.context_window import estimate_item_tokens, estimate_text_tokens

if TYPE_CHECKING:
    from codex.config.model import ModelProviderInfo
    from codex.protocol import InputItem, Prompt, TokenUsage
    from codex.wire import WireApi

SUMMARY_PROMPT = (
    "Context is running out, so this conversation will continue from a summary you write now. "
    "Summarise everything so far as a handover note for yourself, in Markdown: the task and its "
    "goal; decisions made and why; files created or changed (with paths) and what is in them now; "
    "commands that mattered and their results (errors included); what is finished; what remains, "
    "in order, including the step in progress; open questions. Be specific (names, paths, "
    "numbers); leave out what no longer matters. Answer with the note only and do not call any tools."
)

SUMMARY_TAG = "summary_of_earlier_conversation"
PLAN_TAG = "current_plan"
SUMMARY_BRIDGE = (
    f"<{SUMMARY_TAG}>\nThe conversation so far was summarised to save context; continue from this "
    f"summary (the person's latest messages are above it).\n\n{{summary}}\n</{SUMMARY_TAG}>"
)
# Messages codex writes itself; never kept as "what the person asked".
CONTEXT_PREFIXES = ("<environment_context>", "<user_instructions>", f"<{SUMMARY_TAG}>", f"<{PLAN_TAG}>")
OPENING_PREFIXES = ("<environment_context>", "<user_instructions>")

# The person's own messages kept after a compaction: the newest first, up to this share of
# the window (at most 20,000 tokens, as the peer keeps); a longer message keeps its head and tail.
USER_MESSAGES_WINDOW_SHARE = 8
USER_MESSAGES_MAX_TOKENS = 20_000
# Room left in the summary request for the summary itself. Compaction starts at 80 % of the
# window by default, so the summary request (the history plus one short message) normally fits
# whole: nothing is left out and its prefix is the cached one.
SUMMARY_ANSWER_RESERVE_FRACTION = 0.1


def opening_items(history: list[InputItem]) -> list[InputItem]:
    """The session's opening context items (AGENTS.md, the environment) at the head of history."""
    from codex.protocol import Message

    opening: list[InputItem] = []
    for item in history:
        if isinstance(item, Message) and item.role == "user" and item.text.lstrip().startswith(OPENING_PREFIXES):
            opening.append(item)
        else:
            break
    return opening


def is_person_message(item: InputItem) -> bool:
    """A user message the person wrote (not context codex added)."""
    from codex.protocol import Message

    return isinstance(item, Message) and item.role == "user" and not item.text.lstrip().startswith(CONTEXT_PREFIXES)


def summary_input(history: list[InputItem], excess_tokens: int) -> tuple[list[InputItem], int]:
    """The history to summarise with at least ``excess_tokens`` left out, and how many items
    were. Leaves out the oldest items after the opening context; a tool output whose call was
    left out goes too (a wire refuses an output without its call)."""
    from codex.protocol import CustomToolCallOutput, FunctionCallOutput

    opening = opening_items(history)
    rest = history[len(opening) :]
    dropped = 0
    start = 0
    while start < len(rest) and (
        dropped < excess_tokens or isinstance(rest[start], FunctionCallOutput | CustomToolCallOutput)
    ):
        dropped += estimate_item_tokens(rest[start])
        start += 1
    return [*opening, *rest[start:]], start


def current_plan(history: list[InputItem]) -> str | None:
    """The latest plan: the last ``update_plan`` call's steps, or the plan a compaction kept."""
    from codex.protocol import FunctionCall, Message

    for item in reversed(history):
        if isinstance(item, FunctionCall) and item.name == "update_plan":
            try:
                args = json.loads(item.arguments)
                steps = args["plan"]
                marks = {"completed": "[x]", "in_progress": "[~]"}
                lines = [f"- {marks.get(str(s.get('status')), '[ ]')} {s.get('step', '')}" for s in steps]
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # a call the tool refused too; an older one may still stand
            explanation = args.get("explanation")
            text = "\n".join(lines)
            return f"{explanation}\n{text}" if isinstance(explanation, str) and explanation else text
        if isinstance(item, Message) and item.role == "user" and item.text.startswith(f"<{PLAN_TAG}>"):
            inner = item.text[len(f"<{PLAN_TAG}>") :]
            return inner.rsplit(f"</{PLAN_TAG}>", 1)[0].strip("\n")
    return None


def recent_person_messages(history: list[InputItem], budget_tokens: int) -> list[InputItem]:
    """The person's newest messages that fit ``budget_tokens``, oldest first."""
    from codex.context_window import truncate_for_model
    from codex.protocol import Message

    kept: list[InputItem] = []
    left = budget_tokens
    for item in reversed(history):
        if not is_person_message(item):
            continue
        assert isinstance(item, Message)
        size = estimate_text_tokens(item.text)
        if size > left:
            if left > 200:  # the rest of the budget holds the head and tail of a long message
                kept.append(Message("user", truncate_for_model(item.text, left)))
            break
        kept.append(item)
        left -= size
    kept.reverse()
    return kept


def user_messages_budget(window: int | None) -> int:
    """Tokens of the person's own messages a compaction keeps."""
    if not window:
        return USER_MESSAGES_MAX_TOKENS
    return min(USER_MESSAGES_MAX_TOKENS, window // USER_MESSAGES_WINDOW_SHARE)


def compacted_history(history: list[InputItem], summary: str, window: int | None) -> list[InputItem]:
    """The history that replaces ``history``: opening context, recent messages, summary, plan."""
    from codex.protocol import Message

    replacement: list[InputItem] = list(opening_items(history))
    replacement.extend(recent_person_messages(history, user_messages_budget(window)))
    replacement.append(Message("user", SUMMARY_BRIDGE.format(summary=summary.strip())))
    plan = current_plan(history)
    if plan:
        replacement.append(Message("user", f"<{PLAN_TAG}>\n{plan}\n</{PLAN_TAG}>"))
    return replacement


async def request_summary(
    wire: WireApi, prompt: Prompt, provider: ModelProviderInfo, owner: str, billed: Callable[[TokenUsage], None]
) -> str:
    """The text the model answers to the summary request ``prompt`` (retried like any request;
    ``billed`` is told its usage). ProviderError when the answer holds no text."""
    from codex.errors import ProviderError
    from codex.protocol import Completed, Message, OutputItemDone, StreamRetrying
    from codex.wire import stream_with_retries

    texts: list[str] = []
    async for event in stream_with_retries(wire, prompt, provider, owner=owner):
        if isinstance(event, StreamRetrying):
            texts.clear()
        elif isinstance(event, OutputItemDone):
            item = event.item
            if isinstance(item, Message) and item.role == "assistant" and item.text.strip():
                texts.append(item.text)
        elif isinstance(event, Completed) and event.usage is not None:
            billed(event.usage)
    if not texts:
        raise ProviderError(
            "compaction failed: the model answered the summary request without any text; the conversation "
            "is unchanged"
        )
    return "\n\n".join(texts)
