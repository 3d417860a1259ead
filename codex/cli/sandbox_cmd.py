"""``codex sandbox``: run one command under a sandbox policy, or show what this machine enforces."""

from __future__ import annotations

import os
import sys

import click

from codex.cli.options import agent_options, loaded_config, plugin_manager
from codex.errors import SandboxError

EPILOG = """\b
Examples:
  codex sandbox linux -- touch /etc/x             (read-only: fails with "Read-only file system")
  codex sandbox linux --full-auto -- make test     (workspace-write: cwd, /tmp and $TMPDIR writable)
  codex sandbox linux -s workspace-write -c sandbox_workspace_write.network_access=true -- pip download x
  codex sandbox status                             (which backends work here, and what they enforce)
"""


@click.group("sandbox", epilog=EPILOG)
def sandbox_group() -> None:
    """Run a command confined as the agent's commands are, or inspect the sandbox backends."""


def _run_under(ctx: click.Context, backend_name: str, command: tuple[str, ...]) -> None:
    from codex.plugins import collect_registry
    from codex.sandbox import SandboxMode
    from codex.services import sandbox_policy_for

    if not command:
        raise click.UsageError("give the command after `--`, e.g. `codex sandbox linux -- ls`")
    loaded = loaded_config(ctx)
    policy = sandbox_policy_for(loaded)
    pm = plugin_manager(ctx)
    backend = collect_registry(pm, "codex_sandboxes", "sandbox backend").get(backend_name)
    status = backend.availability()
    if not status.available:
        raise SandboxError(f"the {backend_name} sandbox is not available here: {status.reason}")
    if policy.mode is SandboxMode.DANGER_FULL_ACCESS:
        click.echo("codex sandbox: danger-full-access: running without confinement", err=True)
        argv, extra = list(command), {}
    else:
        prepared = backend.prepare(list(command), policy, loaded.cwd)
        argv, extra = prepared.argv, prepared.env
    env = dict(os.environ)
    env.update(extra)
    os.chdir(loaded.cwd)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        # Replace this process: signals, exit status and the terminal belong to the command.
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        raise SandboxError(f"cannot run {argv[0]!r}: {exc.strerror}") from None


def _make_runner(name: str, backend: str, os_label: str) -> click.Command:
    @sandbox_group.command(
        name,
        context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
        epilog=EPILOG,
    )
    @agent_options
    @click.argument("command", nargs=-1, type=click.UNPROCESSED)
    @click.pass_context
    def runner(ctx: click.Context, /, command: tuple[str, ...], **_flags: object) -> None:
        _run_under(ctx, backend, command)

    runner.help = (
        f"Run COMMAND under the {os_label} sandbox ({backend}) with the configured sandbox_mode "
        "(read-only when nothing is configured); -s or --full-auto override it. Exits with the command's status."
    )
    return runner


_make_runner("linux", "landlock", "Linux")
_make_runner("landlock", "landlock", "Linux")
_make_runner("macos", "seatbelt", "macOS")
_make_runner("seatbelt", "seatbelt", "macOS")


@sandbox_group.command("status", epilog="\b\nExamples:\n  codex sandbox status\n  codex doctor")
@click.pass_context
def status_command(ctx: click.Context) -> None:
    """Show each sandbox backend: available or why not, and what it enforces here."""
    click.echo(sandbox_report(ctx))


def sandbox_report(ctx: click.Context) -> str:
    """The text of `codex sandbox status` (also `codex doctor`)."""
    from codex.plugins import collect_registry

    pm = plugin_manager(ctx)
    registry = collect_registry(pm, "codex_sandboxes", "sandbox backend")
    lines = [f"platform: {sys.platform}"]
    best = None
    for name, backend in sorted(registry.items(), key=lambda kv: -kv[1].priority):
        status = backend.availability()
        mark = "available" if status.available else "unavailable"
        lines.append(f"{name} ({registry.plugin_of(name)}): {mark}: {status.reason}")
        for key, value in status.details.items():
            lines.append(f"    {key}: {value}")
        if best is None and status.available and backend.priority > 0:
            best = name
    lines.append(f"sandbox_backend = \"auto\" picks: {best or 'nothing (restrictive policies will ask or refuse)'}")
    return "\n".join(lines)


DOCTOR_EPILOG = """\b
Examples:
  codex doctor
  codex sandbox linux -- touch /etc/x   (see a denial for yourself)
"""


@click.command("doctor", epilog=DOCTOR_EPILOG)
@click.pass_context
def doctor_command(ctx: click.Context) -> None:
    """Check this machine: sandbox backends and what they enforce (same as `codex sandbox status`)."""
    click.echo(sandbox_report(ctx))
