"""An example third-party codex plugin: one module, a few ``@hookimpl`` functions.

It adds a model provider (``example``), a tool (``word_count``) and a command
(``codex example-hello``). It imports from codex only ``codex.plugin``, the public plugin API,
and declares the version of that API it was written for. Importing it is cheap: pluggy only.
pydantic, click and codex's tool types are imported inside the hooks that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codex.plugin import hookimpl

if TYPE_CHECKING:
    import click

    from codex.plugin import Config, Tool

CODEX_PLUGIN_API = "1.0"


@hookimpl
def codex_model_providers() -> dict[str, dict[str, Any]]:
    """A provider entry with the same keys as a ``[model_providers.example]`` table."""
    return {
        "example": {
            "name": "Example Cloud",
            "base_url": "https://api.example.invalid/v1",
            "env_key": "EXAMPLE_API_KEY",
            "env_key_instructions": "Create a key at https://example.invalid/keys.",
            "wire_api": "chat",
        }
    }


@hookimpl
def codex_tools(config: Config) -> list[Tool]:
    """Offer ``word_count`` to the model."""
    from codex_plugin_example.tools import word_count_tool

    return [word_count_tool()]


@hookimpl
def codex_cli_commands(cli: click.Group) -> None:
    """Add ``codex example-hello``."""
    import click

    @cli.command("example-hello", epilog="Example:\n\n  codex example-hello --name Ada")
    @click.option("--name", default="world", help="Who to greet.")
    def example_hello(name: str) -> None:
        """Greet someone (an example plugin command)."""
        click.echo(f"hello, {name}, from codex-plugin-example")
