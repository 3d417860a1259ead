"""The ``codex`` console script, and the one place a CodexError turns into a message.

Start-up time is a feature: ``codex --version`` answers before click, pydantic or httpx are
imported, and ``codex --help`` is served from a cache while nothing it depends on has changed
(the package version and CLI sources, anything installed on ``sys.path``, the plugin selection
variables and the terminal width). Rendering the top-level help needs click and every plugin,
which costs several times the interpreter's own start-up; the cache brings it back to a file
read. ``CODEX_HELP_CACHE=0`` (or ``CODEX_CACHE=0``, which turns every cache off) skips it.

The cached text is only ever printed, never acted on, and the cache directory is among the
paths the sandbox keeps read-only; a file that is not the user's own 0600 regular file, or text
holding a control character other than a newline or backspace (a terminal escape), is ignored.
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
_VERSION_ARGS = (["--version"], ["-V"])


def main(argv: list[str] | None = None) -> int:
    """Run ``codex`` with ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args in _VERSION_ARGS:
        sys.stdout.write(f"codex-py {__version__}\n")
        return 0
    if args in _HELP_ARGS:
        cached = _read_help_cache()
        if cached is not None:
            sys.stdout.write(cached)
            return 0
    _skip_httpx_cli()
    code = _run_quickly(args) if args[:1] == ["exec"] else None
    if code is None:
        code = _run_click(args)
    if argv is None:
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End the process without tearing down every module one by one.

    After an agent run the interpreter holds pydantic, httpx and asyncio; finalising them costs
    ~100 ms that nobody waits for usefully. Output is flushed and atexit handlers (logging, a
    server we promised to stop) still run; everything we write is flushed as it is written.
    """
    import atexit

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    atexit._run_exitfuncs()
    os._exit(code)


def _debug_requested(args: list[str]) -> bool:
    return "--debug" in args or os.environ.get("CODEX_DEBUG", "") not in ("", "0")


def _skip_httpx_cli() -> None:
    """Keep httpx's own command-line module out of this process.

    ``import httpx`` imports ``httpx._main`` (its CLI), which pulls in rich and pygments when they
    are installed: ~50 ms on every model request's first import, for code we never call.
    """
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    import types

    stub = types.ModuleType("httpx._main")

    def main(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("httpx's command line is not available inside codex")

    stub.main = main  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = stub


def _run_quickly(args: list[str]) -> int | None:
    """``codex exec ...`` without click when its command line is a plain one, else None."""
    from codex.cli.exec_run import quick_exec

    return _guarded(lambda: quick_exec(args[1:]), args)


def _run_click(args: list[str]) -> int:
    def run() -> int:
        from codex.cli.main import cli

        if args in _HELP_ARGS:
            text = top_level_help()
            sys.stdout.write(text)
            _write_help_cache(text)
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


# --- the --help cache ---------------------------------------------------------------------------


def _terminal_columns() -> int:
    # The same lookup click's help formatter makes through shutil.get_terminal_size.
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        columns = 0
    return columns if columns > 0 else 80


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _help_cache_key() -> str:
    """Everything the top-level help text depends on, as one line."""
    cli_dir = os.path.dirname(os.path.abspath(__file__))
    parts = [
        __version__,
        sys.executable,
        str(min(_terminal_columns(), 80)),
        os.environ.get("CODEX_PLUGINS", ""),
        os.environ.get("CODEX_DISABLE_PLUGINS", ""),
    ]
    parts += [str(_mtime(os.path.join(cli_dir, name))) for name in ("main.py", "options.py", "entry.py")]
    # Installing, upgrading or removing a distribution changes its sys.path directory's mtime.
    parts += [f"{entry}@{_mtime(entry or '.')}" for entry in sys.path]
    return "\x1f".join(parts).replace("\n", " ")


def _help_cache_path() -> str:
    import zlib

    # One file per environment (sys.prefix): several virtualenvs share the user cache directory.
    from codex.memo import cache_dir

    return os.path.join(cache_dir(), f"help-{zlib.crc32(sys.prefix.encode()):08x}.txt")


def _help_cache_enabled() -> bool:
    from codex.memo import caching_enabled

    return caching_enabled() and os.environ.get("CODEX_HELP_CACHE", "1") not in ("0", "")


def _printable(text: str) -> bool:
    # Help is plain text (click leaves its "\b" no-rewrap markers in): an escape or any other
    # control character came from someone else and could drive the terminal.
    return all(char in "\n\b" or char.isprintable() for char in text)


def _read_help_cache() -> str | None:
    if not _help_cache_enabled():
        return None
    from codex.private import read_private_file

    raw = read_private_file(_help_cache_path())
    if raw is None:
        return None
    try:
        key, _, text = raw.decode("utf-8").partition("\n")
    except UnicodeDecodeError:
        return None
    return text if key == _help_cache_key() and _printable(text) else None


def _write_help_cache(text: str) -> None:
    if not _help_cache_enabled() or not _printable(text):
        return
    from codex.memo import prepare_cache_dir
    from codex.private import write_private_file

    try:
        prepare_cache_dir()
        write_private_file(_help_cache_path(), (_help_cache_key() + "\n" + text).encode("utf-8"))
    except OSError:
        pass  # an unwritable cache only costs the next --help its rendering
