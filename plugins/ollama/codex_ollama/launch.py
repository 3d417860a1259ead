"""Starting ``ollama serve`` in the background and waiting, boundedly, until it answers.

The server is started in its own session (process group), so Ctrl-C in codex does not reach it
and it outlives codex: the next ``codex --oss`` finds it running and the model still loaded.
Its output goes to a log file under the user's log directory, never to the terminal.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from codex.plugin import ProviderError
from codex_ollama.client import ServerStatus, probe_ollama

DEFAULT_PORT = 11434
START_TIMEOUT_SECONDS = 30.0
_POLL_SECONDS = 0.2


def default_log_path() -> Path:
    """``<user log dir>/codex/ollama-serve.log`` (platformdirs: ~/.local/state/codex/log on Linux)."""
    import platformdirs

    return Path(platformdirs.user_log_dir("codex", appauthor=False)) / "ollama-serve.log"


def ollama_host(base_url: str) -> str:
    """The ``OLLAMA_HOST`` value that makes ``ollama serve`` listen where ``base_url`` points."""
    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or DEFAULT_PORT
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}"


@dataclass
class LaunchedServer:
    """An ``ollama serve`` that codex started."""

    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (terminate, then kill after ``timeout`` seconds)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def release(self) -> None:
        """Stop tracking a server that is meant to outlive codex.

        Nothing will ever wait for it here, so Python must not warn that it "is still running"
        when this object is collected.
        """
        self.process.returncode = self.process.returncode if self.process.returncode is not None else 0


def launch_server(
    executable: str,
    base_url: str,
    *,
    log_path: Path,
    context_window: int | None = None,
    env: Mapping[str, str] | None = None,
) -> LaunchedServer:
    """Start ``executable serve`` listening at ``base_url``'s host and port, logging to ``log_path``.

    ``OLLAMA_CONTEXT_LENGTH`` is set to ``context_window`` unless the environment already sets
    it, so even clients of Ollama's OpenAI-compatible API get a window fit for an agent.
    """
    child_env = dict(os.environ if env is None else env)
    child_env["OLLAMA_HOST"] = ollama_host(base_url)
    if context_window and not child_env.get("OLLAMA_CONTEXT_LENGTH"):
        child_env["OLLAMA_CONTEXT_LENGTH"] = str(context_window)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log: IO[bytes] = open(log_path, "ab")  # noqa: SIM115 - the child keeps writing after we return
    try:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        header = f"\n--- {stamp} codex started: {executable} serve (OLLAMA_HOST={child_env['OLLAMA_HOST']})\n"
        log.write(header.encode())
        log.flush()
        kwargs: dict[str, object] = {}
        if sys.platform == "win32":
            flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) | getattr(subprocess, "DETACHED_PROCESS", 0)
            kwargs["creationflags"] = flags
        else:
            kwargs["start_new_session"] = True
        process = subprocess.Popen(
            [executable, "serve"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env,
            close_fds=True,
            **kwargs,  # type: ignore[call-overload]
        )
    except OSError as exc:
        raise ProviderError(
            f"could not start `{executable} serve`: {exc}. Start it yourself and run codex again."
        ) from None
    finally:
        log.close()
    return LaunchedServer(process, log_path)


def wait_until_ready(
    server: LaunchedServer,
    base_url: str,
    *,
    timeout: float = START_TIMEOUT_SECONDS,
    probe: Callable[[str], ServerStatus] = probe_ollama,
    on_wait: Callable[[float], None] | None = None,
) -> ServerStatus:
    """Poll the server until it answers, it exits, or ``timeout`` seconds pass.

    A server that exits or never answers is reported with the end of its log; one that is
    still starting after the timeout is stopped, so no half-started process is left behind.
    """
    started = time.monotonic()
    deadline = started + timeout
    last = ServerStatus(base_url, False, error="not probed yet")
    while True:
        code = server.process.poll()
        if code is not None:
            raise ProviderError(
                f"`ollama serve` exited with status {code} before answering at {base_url}. "
                f"The end of its log ({server.log_path}):\n{log_tail(server.log_path)}"
            )
        last = probe(base_url)
        if last.reachable:
            return last
        now = time.monotonic()
        if now >= deadline:
            server.stop()
            raise ProviderError(
                f"Ollama did not answer at {base_url} within {timeout:g} s of starting `ollama serve` "
                f"(last error: {last.error}); codex stopped it. The end of its log ({server.log_path}):\n"
                f"{log_tail(server.log_path)}"
            )
        if on_wait is not None:
            on_wait(now - started)
        time.sleep(min(_POLL_SECONDS, max(0.0, deadline - now)))


def log_tail(path: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of a log, indented, or a note that it cannot be read."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 8192))
            text = handle.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"    (cannot read the log: {exc})"
    tail = text.splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in tail) or "    (the log is empty)"
