"""``codex plugins``: every registered plugin, where it comes from, and what it adds."""

from __future__ import annotations

import json
from typing import Any

import click

from codex.cli.options import plugin_manager, plugin_schemas
from codex.plugin import API_DECLARATION, API_VERSION
from codex.plugins import PluginRecord, describe_provides

EPILOG = """\b
Examples:
  codex plugins                          the table
  codex plugins --json | jq '.[].name'   for scripts
  CODEX_DISABLE_PLUGINS=ollama codex plugins
  CODEX_PLUGINS=openai codex plugins     load only these entry-point plugins
"""


def record_as_dict(record: PluginRecord) -> dict[str, Any]:
    """The JSON form of one plugin record (``codex plugins --json``)."""
    return {
        "name": record.name,
        "module": record.module,
        "distribution": record.distribution,
        "version": record.version,
        "api_version": record.api_version or None,
        "builtin": record.builtin,
        "hooks": record.hooks,
        "provides": record.provides,
        "error": record.error,
    }


def _hooks_text(record: PluginRecord) -> str:
    return ", ".join(hook.removeprefix("codex_") for hook in record.hooks) or "-"


def _provides_text(record: PluginRecord) -> str:
    return "; ".join(f"{kind}: {', '.join(names)}" for kind, names in record.provides.items()) or "-"


def render_table(records: list[PluginRecord]) -> str:
    """A plain-text table; a broken plugin's row says BROKEN and the error follows it."""
    header = ("PLUGIN", "DISTRIBUTION", "VERSION", "API", "HOOKS", "PROVIDES")
    rows = [
        (
            record.name + (" (BROKEN)" if record.broken else ""),
            record.distribution,
            record.version or "-",
            record.api_version or "-",
            _hooks_text(record),
            _provides_text(record),
        )
        for record in records
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for index, row in enumerate([header, *rows]):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
        record = records[index - 1] if index else None
        if record is not None and record.error:
            lines.append(f"  error: {record.error}")
    return "\n".join(lines)


@click.command(epilog=EPILOG)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of plugin records instead of a table.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List installed plugins: distribution, version, plugin API, hooks, and what each provides.

    Broken plugins (failed to import or register) are listed with their error; every other
    command keeps working without them.
    """
    from codex.config.plugin_tables import default_config

    pm = plugin_manager(ctx)
    # Tools depend on the config; the defaults show what a plugin offers out of the box.
    describe_provides(pm, default_config(plugin_schemas(ctx)))
    records = list(pm.records.values())
    if as_json:
        click.echo(json.dumps([record_as_dict(r) for r in records], indent=2))
        return
    click.echo(render_table(records))
    undeclared = [r.name for r in records if not r.broken and not r.api_version]
    if undeclared:
        # A note, not a warning on every run: only here, where an author looks.
        click.echo(
            f"note: {', '.join(undeclared)} declare(s) no plugin API version and load(s) as written "
            f"for {API_VERSION.split('.')[0]}.0; the plugin should set {API_DECLARATION} = \"{API_VERSION}\" "
            "(see docs/plugins.md)",
            err=True,
        )
    broken = [r.name for r in records if r.broken]
    if broken:
        click.echo(
            f"{len(broken)} plugin(s) broken: {', '.join(broken)}. "
            f"Disable with CODEX_DISABLE_PLUGINS={','.join(broken)}",
            err=True,
        )
