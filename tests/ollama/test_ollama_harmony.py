"""Stray harmony tokens are removed from text and tool names, and nothing else is touched."""

from __future__ import annotations

import pytest
from codex_ollama.harmony import HarmonyTextFilter, clean_text, clean_tool_name

KNOWN = {"shell", "apply_patch", "update_plan", "to_json"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("shell", "shell"),
        ("functions.shell", "shell"),
        ("functions.shell<|channel|>commentary", "shell"),
        ("shell<|constrain|>json", "shell"),
        ("functions.apply_patch json", "apply_patch"),
        ("update_planjson", "update_plan"),
        ("to_json", "to_json"),
        ("  shell ", "shell"),
        ("<|channel|>commentary to=functions.shell", "shell"),
    ],
)
def test_tool_names_lose_harmony_leftovers(raw: str, expected: str) -> None:
    assert clean_tool_name(raw, KNOWN) == expected


def test_unknown_names_are_only_stripped_of_tokens_and_prefixes() -> None:
    # The dispatcher then tells the model the tool does not exist, under the name it meant.
    assert clean_tool_name("functions.browser<|channel|>commentary", KNOWN) == "browser"
    assert clean_tool_name("readjson", KNOWN) == "readjson"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<|channel|>final<|message|>Done.", "Done."),
        ("<|start|>assistant<|channel|>final<|message|>Hi<|end|>", "Hi"),
        ("The answer is 4.<|return|>", "The answer is 4."),
        ("x <| y |> z and a<b", "x <| y |> z and a<b"),
        ("finally <|channel|>finally", "finally finally"),
        ("plain text", "plain text"),
    ],
)
def test_text_loses_special_tokens_only(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    "whole",
    [
        "<|start|>assistant<|channel|>final<|message|>The file has 3 lines.<|end|>",
        "Use a < b and c <|channel|>commentary to=functions.shell <|constrain|>json<|message|>ok",
        "no tokens at all, just <angle> brackets | and pipes",
    ],
)
def test_streamed_text_is_cleaned_whatever_the_split(whole: str) -> None:
    for first in range(len(whole) + 1):
        for second in range(first, len(whole) + 1, 7):
            stream = HarmonyTextFilter()
            shown = stream.feed(whole[:first]) + stream.feed(whole[first:second]) + stream.feed(whole[second:])
            shown += stream.flush()
            assert shown == clean_text(whole), (first, second)


def test_filter_holds_back_only_a_possible_token() -> None:
    stream = HarmonyTextFilter()
    assert stream.feed("Hello <") == "Hello "
    assert stream.feed("b>") == "<b>"
    assert stream.feed("world<|chan") == "world"
    assert stream.feed("nel|>final") == ""
    assert stream.feed("<|message|>!") == "!"
    assert stream.flush() == ""
