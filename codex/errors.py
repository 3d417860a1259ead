"""The one exception hierarchy: caught once at the CLI boundary and printed without a traceback."""

from __future__ import annotations


class CodexError(Exception):
    """Base of every error meant for a person: the message says what, where and what to do."""

    exit_code: int = 1


class UsageError(CodexError):
    """The command line was wrong (exit status 2, like click's usage errors)."""

    exit_code = 2


class ConfigError(CodexError):
    """config.toml or a -c override is invalid; the message names file, line, key and expectation."""


class PluginError(CodexError):
    """A plugin failed to load, or a registry name is unknown or registered twice."""


class ProviderError(CodexError):
    """The model provider could not be reached or refused the request."""


class SandboxError(CodexError):
    """The requested sandbox cannot be set up here; never fall back to running unconfined."""


class PatchError(CodexError):
    """A patch did not parse or did not apply; nothing was written."""
