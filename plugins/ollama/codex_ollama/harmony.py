"""Cleaning stray harmony-format tokens out of what gpt-oss sends back.

gpt-oss speaks OpenAI's harmony format (``<|start|>assistant<|channel|>commentary
to=functions.shell <|constrain|>json<|message|>{...}<|call|>``). Ollama and LM Studio parse it
into text, thinking and tool calls, but not always completely: users see ``<|channel|>final``
in answers, and tool names such as ``functions.shell`` or ``shell<|channel|>commentary`` that no
tool is registered under. This module removes those leftovers; it never touches text that
merely mentions ``<`` or ``|``.

Example::

    >>> clean_tool_name("functions.shell<|channel|>commentary", {"shell"})
    'shell'
    >>> clean_text("<|channel|>final<|message|>Done.")
    'Done.'
"""

from __future__ import annotations

import re
from collections.abc import Collection

# Special tokens of the harmony format; after some of them the model writes a word that belongs
# to the token (a role, a channel, a constraint), which is removed together with it.
_TOKENS = ("<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>", "<|return|>", "<|call|>")
_STRAY = re.compile(
    r"<\|start\|>(?:assistant|user|system|developer|tool)?"
    r"|<\|channel\|>(?:(?:analysis|commentary|final)\b(?:[ \t]+to=[\w.\-]+)?)?[ \t]*"
    r"|<\|constrain\|>(?:json)?"
    r"|<\|(?:end|message|return|call)\|>"
)
# A token at the end of a streamed delta whose trailing word may still be incomplete.
_OPEN_TAIL = re.compile(
    r"<\|(?:start|channel|constrain)\|>[A-Za-z]*(?:[ \t]+(?:t(?:o(?:=[\w.\-]*)?)?)?)?"
)
_RECIPIENT = re.compile(r"\bto=([\w.\-]+)")
_LONGEST_TAIL = 64
_NAME_PREFIXES = ("functions.", "function.", "tools.", "tool.")
_NAME_SUFFIXES = ("<|constrain|>json", " json", ".json", "json")


def clean_text(text: str) -> str:
    """``text`` without harmony special tokens (and the role/channel words that follow them)."""
    if "<|" not in text:
        return text
    return _STRAY.sub("", text)


def clean_tool_name(name: str, known: Collection[str] = ()) -> str:
    """The tool name the model meant.

    A name that is already known is returned unchanged. Otherwise harmony leftovers are cut
    (``<|channel|>...`` and everything after the first special token, ``functions.`` prefixes,
    a ``json`` suffix that belongs to ``<|constrain|>json``); a suffix is only dropped when that
    yields a known name, so a tool really called ``to_json`` keeps its name.
    """
    if name in known:
        return name
    cleaned = name.strip()
    # A whole harmony header leaked into the name: the recipient after `to=` is the tool.
    recipient = _RECIPIENT.search(cleaned)
    if recipient is not None:
        cleaned = recipient.group(1)
    marker = cleaned.find("<|")
    if marker > 0:
        cleaned = cleaned[:marker].strip()
    elif marker == 0:
        cleaned = clean_text(cleaned).strip()
    changed = True
    while changed:
        changed = False
        for prefix in _NAME_PREFIXES:
            if cleaned.startswith(prefix) and len(cleaned) > len(prefix):
                cleaned = cleaned[len(prefix):]
                changed = True
    cleaned = cleaned.strip()
    if cleaned in known or not known:
        return cleaned
    for suffix in _NAME_SUFFIXES:
        if cleaned.endswith(suffix) and cleaned[: -len(suffix)].rstrip() in known:
            return cleaned[: -len(suffix)].rstrip()
    return cleaned


class HarmonyTextFilter:
    """Cleans a streamed text delta by delta.

    A special token can be split across deltas (``<|chan`` + ``nel|>final``), so a tail that
    may still grow into a token is held back until the next delta or ``flush()``. Only such a
    tail is ever delayed, and it is at most a few dozen characters::

        f = HarmonyTextFilter()
        shown = f.feed("<|chan") + f.feed("nel|>final<|message|>Hi") + f.flush()
        assert shown == "Hi"
    """

    def __init__(self) -> None:
        self._held = ""

    def feed(self, delta: str) -> str:
        """The cleaned text that can be shown now."""
        text = self._held + delta
        self._held = ""
        cut = _open_tail_start(text)
        if cut is not None:
            self._held = text[cut:]
            text = text[:cut]
        return clean_text(text)

    def flush(self) -> str:
        """Whatever was held back, cleaned (call at the end of the stream)."""
        text, self._held = self._held, ""
        return clean_text(text)


def _open_tail_start(text: str) -> int | None:
    """Where a possibly incomplete special token starts at the end of ``text``, if anywhere."""
    start = text.rfind("<", max(0, len(text) - _LONGEST_TAIL))
    if start < 0:
        return None
    tail = text[start:]
    if any(token.startswith(tail) for token in _TOKENS):
        return start
    if _OPEN_TAIL.fullmatch(tail):
        return start
    return None
