"""The ``word_count`` tool: counts the words of a file under the session's working directory."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codex.plugin import Tool, ToolContext, ToolResult
    from codex_plugin_example.args import WordCountArgs


async def count_words(args: WordCountArgs, ctx: ToolContext) -> ToolResult:
    """Read the file and answer with its word count; errors go back to the model as text."""
    from codex.plugin import ToolResult

    target = ctx.cwd / args.path
    try:
        text = target.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return ToolResult(f"error: cannot read {args.path}: {exc.strerror}", success=False)
    return ToolResult(str(len(text.split())))


def word_count_tool() -> Tool:
    """The tool as codex's registry wants it."""
    from codex.plugin import Tool

    return Tool(
        name="word_count",
        description="Count the words in a text file.",
        # A "module:Class" reference: imported when the schema is first needed, in every run
        # (``schema_override``, the schema as data, keeps pydantic out until the model calls it).
        parameters="codex_plugin_example.args:WordCountArgs",
        handler=count_words,
        read_only=True,
    )
