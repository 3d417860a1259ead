"""The ``word_count`` tool: counts the words of a file under the session's working directory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from codex.tools.base import Tool, ToolContext, ToolResult


class WordCountArgs(BaseModel):
    """Arguments the model sends."""

    path: str = Field(description="A file path, relative to the working directory.")


async def count_words(args: WordCountArgs, ctx: ToolContext) -> ToolResult:
    """Read the file and answer with its word count; errors go back to the model as text."""
    from codex.tools.base import ToolResult

    target = ctx.cwd / args.path
    try:
        text = target.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return ToolResult(f"error: cannot read {args.path}: {exc.strerror}", success=False)
    return ToolResult(str(len(text.split())))


def word_count_tool() -> Tool:
    """The tool as codex's registry wants it."""
    from codex.tools.base import Tool

    return Tool(
        name="word_count",
        description="Count the words in a text file.",
        parameters=WordCountArgs,
        handler=count_words,
        read_only=True,
    )
