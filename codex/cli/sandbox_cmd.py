"""``codex sandbox``: run one command under a sandbox policy, or show what this machine enforces."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from codex.cli.options import agent_options, loaded_config, plugin_manager
from codex.errors import SandboxError, UsageError

if TYPE_CHECKING:
    from codex.sandbox import SandboxBackend

EPILOG = """\b
Examples:
  codex sandbox run -- touch /etc/x                     (read-only: fails with "Read-only file system")
  codex sandbox run --full-auto -- make test            (workspace-write: cwd, /tmp and $TMPDIR writable)
  codex sandbox run --backend landlock -s read-only -- ls
  codex sandbox run -s workspace-write -c sandbox_workspace_write.network_access=true -- pip download x
  codex sandbox status                                  (which backends work here, and what they enforce)
"""

# How long the copy of the command's stderr may go on after the command ended: a background
# process it left behind may hold the pipe open for ever.
STDERR_DRAIN_SECONDS = 1.0


@click.group("sandbox", epilog=EPILOG)
def sandbox_group() -> None:
    """Run a command confined as the agent's commands are, or inspect the sandbox backends."""


def _backend_list(registry: Any) -> str:
    """Every registered backend with whether it works here, for error messages."""
    entries: list[tuple[bool, str]] = []
    for name, backend in registry.items():
        if name == "none":
            continue
        try:
            status = backend.availability()
            available, state = status.available, "available" if status.available else f"unavailable: {status.reason}"
        except Exception as exc:  # a broken plugin must not hide the others
            available, state = False, f"broken: {type(exc).__name__}: {exc}"
        entries.append((not available, f"{name} [{state}]"))
    return ", ".join(text for _, text in sorted(entries)) or "none installed"


def _choose_backend(ctx: click.Context, wanted: str | None, restrictive: bool) -> SandboxBackend | None:
    """The backend to run under: ``--backend``, else ``sandbox_backend`` from config (auto)."""
    from codex.plugins import collect_registry

    registry = collect_registry(plugin_manager(ctx), "codex_sandboxes", "sandbox backend")
    name = wanted or loaded_config(ctx).config.sandbox_backend
    if name == "auto":
        ranked = sorted((b for _, b in registry.items() if b.priority > 0), key=lambda b: -b.priority)
        chosen = next((b for b in ranked if b.availability().available), None)
        if chosen is None and restrictive:
            raise SandboxError(
                f"no sandbox backend is available here (installed: {_backend_list(registry)}); "
                "use -s danger-full-access to run without one"
            )
        return chosen
    if name not in registry:
        raise UsageError(f"unknown sandbox backend {name!r}; installed backends: {_backend_list(registry)}")
    if name == "none" and restrictive:
        raise UsageError(
            "the none backend confines nothing, so it cannot run a command under a restrictive policy; "
            f"pick another with --backend (installed backends: {_backend_list(registry)}), "
            "or use -s danger-full-access to run unconfined"
        )
    backend: SandboxBackend = registry.get(name)
    status = backend.availability()
    if not status.available:
        raise SandboxError(
            f"the {name} sandbox is not available here: {status.reason} "
            f"(installed backends: {_backend_list(registry)})"
        )
    return backend


def _run_under(ctx: click.Context, backend_name: str | None, command: tuple[str, ...]) -> None:
    from codex.execution import confine
    from codex.sandbox import SandboxMode, SandboxSetupError
    from codex.services import sandbox_policy_for

    if not command:
        raise click.UsageError("give the command after `--`, e.g. `codex sandbox run -- ls`")
    loaded = loaded_config(ctx)
    policy = sandbox_policy_for(loaded)
    backend = _choose_backend(ctx, backend_name, policy.is_restrictive)
    if policy.mode is SandboxMode.DANGER_FULL_ACCESS or backend is None:
        click.echo("codex sandbox: danger-full-access: running without confinement", err=True)
        argv, extra, label = list(command), {}, "none"
    else:
        label = backend.name
        try:
            prepared = confine(backend, list(command), policy, loaded.cwd)
        except SandboxError as exc:
            raise SandboxSetupError(f"could not set up the {label} sandbox: {exc}; the command did not run") from None
        except Exception as exc:  # a backend's bug is still "could not set up", naming it
            raise SandboxSetupError(
                f"could not set up the {label} sandbox: its prepare() raised {type(exc).__name__}: {exc}; "
                "the command did not run"
            ) from None
        argv, extra = prepared.argv, prepared.env
    env = dict(os.environ)
    env.update(extra)
    sys.exit(_run_child(argv, env, loaded.cwd, label))


def _run_child(argv: list[str], env: dict[str, str], cwd: Path, backend_name: str) -> int:
    """Run the confined command in the foreground; its exit status (signals re-raised) is ours.

    stdin and stdout are the command's own; its stderr passes through codex line by line, so
    that a setup failure by the backend contract (exit 126 and a ``codex-sandbox:`` line) is
    told apart from the command's own failure.
    """
    import signal
    import subprocess
    import threading

    from codex.sandbox import SANDBOX_SETUP_FAILED, setup_failure

    sys.stdout.flush()
    sys.stderr.flush()
    try:
        child = subprocess.Popen(argv, cwd=cwd, env=env, stderr=subprocess.PIPE)
    except OSError as exc:
        raise SandboxError(f"cannot run {argv[0]!r}: {exc.strerror}") from None
    assert child.stderr is not None
    seen: list[str] = []

    def copy_stderr() -> None:
        # Chunks, not lines: a prompt without a newline must show at once. Only the start of
        # each line is kept, to find the backend's ``codex-sandbox:`` lines.
        assert child.stderr is not None
        fd = child.stderr.fileno()
        line = b""
        while chunk := os.read(fd, 65536):
            sys.stderr.buffer.write(chunk)
            sys.stderr.buffer.flush()
            for piece in chunk.splitlines(keepends=True):
                line = (line + piece)[:4096]
                if line.endswith(b"\n"):
                    if line.startswith(b"codex-sandbox:") and len(seen) < 100:
                        seen.append(line.decode("utf-8", "replace"))
                    line = b""
        if line.startswith(b"codex-sandbox:"):
            seen.append(line.decode("utf-8", "replace"))

    copier = threading.Thread(target=copy_stderr, daemon=True)
    copier.start()
    # The terminal sends ^C and ^\ to the command too; codex waits for its exit status.
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGQUIT)}
    forward = {sig: signal.signal(sig, lambda signum, _frame: child.send_signal(signum))
               for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        status = child.wait()
    finally:
        for sig, handler in {**previous, **forward}.items():
            signal.signal(sig, handler)
    copier.join(STDERR_DRAIN_SECONDS)
    reason = setup_failure(status, "".join(seen))
    if reason is not None:
        click.echo(
            f"codex sandbox: could not set up the {backend_name} sandbox: {reason}; the command did not run",
            err=True,
        )
        return SANDBOX_SETUP_FAILED
    if status < 0:
        # Killed by a signal: die the same way, so a calling shell sees what happened.
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
        return 128 - status
    return status


RUN_HELP = (
    "Run COMMAND under a sandbox backend with the configured sandbox_mode (read-only when nothing "
    "is configured); -s or --full-auto override it. The backend is --backend, else sandbox_backend "
    "(auto: the best available). Exits with the command's status; 126 with a `could not set up the "
    "sandbox` message when the backend could not confine it (the command did not run)."
)


@sandbox_group.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog=EPILOG,
    help=RUN_HELP,
)
@click.option("--backend", "backend_name", metavar="NAME", default=None,
              help="The sandbox backend (see `codex sandbox status`); default: sandbox_backend, else auto.")
@agent_options
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run_command(ctx: click.Context, /, backend_name: str | None, command: tuple[str, ...], **_flags: object) -> None:
    _run_under(ctx, backend_name, command)


def _make_alias(name: str, backend: str, os_label: str) -> click.Command:
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

    runner.help = f"Same as `codex sandbox run --backend {backend}` (the {os_label} sandbox)."
    return runner


_make_alias("linux", "landlock", "Linux")
_make_alias("landlock", "landlock", "Linux")
_make_alias("macos", "seatbelt", "macOS")
_make_alias("seatbelt", "seatbelt", "macOS")


@sandbox_group.command("status", epilog="\b\nExamples:\n  codex sandbox status\n  codex doctor")
@click.pass_context
def status_command(ctx: click.Context) -> None:
    """Show each sandbox backend: available or why not, and what it enforces here."""
    click.echo(sandbox_report(ctx))


def sandbox_report(ctx: click.Context) -> str:
    """The text of `codex sandbox status`."""
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
