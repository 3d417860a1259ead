"""The openai plugin for codex (features land in their own issue)."""

from __future__ import annotations
