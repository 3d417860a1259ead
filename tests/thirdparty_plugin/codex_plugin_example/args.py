"""The pydantic model of ``word_count``'s arguments, apart from the tool so that offering the
tool does not import pydantic (codex imports this module when the first call arrives)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WordCountArgs(BaseModel):
    """Arguments the model sends."""

    path: str = Field(description="A file path, relative to the working directory.")
