"""codex for Python: a hackable coding agent for the terminal, built from plugins."""

__version__ = "0.1.0"
