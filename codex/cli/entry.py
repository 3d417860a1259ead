"""The ``codex`` console script, and the one place a CodexError turns into a message.

``codex --version`` answers before click, pydantic or httpx2 are imported. ``codex --help`` is
rendered by click with every plugin loaded (plugins may add commands), each time: a cached copy
saved a one-off start-up, and a cache a sandboxed command might write must not supply text.
"""

from __future__ import annotations

import os
import sys

from codex import __version__

# `codex --version` imports nothing else: mypy reads the block below, Python skips it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_HELP_ARGS = (["--help"], ["-h"])
# Set by a shell asking click for completions (see `codex completion --help`).
_COMPLETE_VAR = "_CODEX_COMPLETE"
_VERSION_ARGS = (["--version"], ["-V"])


def main(argv: list[str] | None = None) -> int:
    """Run ``codex`` with ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    completing = _COMPLETE_VAR in os.environ
    if args in _VERSION_ARGS and not completing:
        sys.stdout.write(f"codex-py {__version__}\n")
        return 0
    quick = args[:1] in (["exec"], ["e"]) and args[1:2] != ["review"] and not completing
    code = _run_quickly(args) if quick else None
    if code is None:
        code = _run_click(args)
    if argv is None:
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End the process without tearing down every module one by one.

    After an agent run the interpreter holds pydantic, httpx2 and asyncio; finalising them costs
    ~100 ms that nobody waits for usefully. Output is flushed and atexit handlers (logging, a
    server we promised to stop) still run; everything we write is flushed as it is written.
    """
    import atexit

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    # The one private name we call: atexit has no public "run the handlers now", and skipping
    # interpreter teardown saves ~64 ms per run (measured; see CONTRIBUTING "Speed").
    atexit._run_exitfuncs()
    os._exit(code)


def _debug_requested(args: list[str]) -> bool:
    return "--debug" in args or os.environ.get("CODEX_DEBUG", "") not in ("", "0")


def _run_quickly(args: list[str]) -> int | None:
    """``codex exec ...`` without click when its command line is a plain one, else None."""
    from codex.cli.exec_run import quick_exec

    return _guarded(lambda: quick_exec(args[1:]), args)


def _run_click(args: list[str]) -> int:
    def run() -> int:
        from codex.cli.main import cli

        if args in _HELP_ARGS and _COMPLETE_VAR not in os.environ:
            sys.stdout.write(top_level_help())
            return 0
        result = cli.main(args=args, prog_name="codex", standalone_mode=False)
        return result if isinstance(result, int) else 0

    code = _guarded(run, args)
    assert code is not None
    return code


def _guarded(run: Callable[[], int | None], args: list[str]) -> int | None:
    """Run a command, turning what stops it into a message and an exit status."""
    from codex.errors import CodexError

    try:
        return run()
    except KeyboardInterrupt:
        sys.stderr.write("\nInterrupted.\n")
        return 130
    except BrokenPipeError:
        # The reader went away (codex plugins | head); nothing left to say to anyone.
        _silence_stdout()
        return 1
    except CodexError as exc:
        if _debug_requested(args):
            import traceback

            traceback.print_exc()
        sys.stderr.write(f"codex: error: {exc}\n")
        return exc.exit_code
    except Exception as exc:
        code = _click_exit(exc)
        if code is None:
            raise
        return code


def _click_exit(exc: Exception) -> int | None:
    """The exit status for one of click's exceptions (click reports them itself), else None."""
    click = sys.modules.get("click")
    if click is None:
        return None
    if isinstance(exc, click.ClickException):
        exc.show()
        code: int = exc.exit_code
        return code
    if isinstance(exc, click.exceptions.Abort):
        interrupted = isinstance(exc.__context__, KeyboardInterrupt | EOFError)
        sys.stderr.write("\nAborted.\n" if interrupted else "Aborted.\n")
        return 130 if isinstance(exc.__context__, KeyboardInterrupt) else 1
    return None


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def top_level_help() -> str:
    """``codex --help`` exactly as click prints it (plugins loaded, their commands listed)."""
    from codex.cli.main import cli

    with cli.make_context("codex", [], resilient_parsing=True) as ctx:
        return cli.get_help(ctx) + "\n"
