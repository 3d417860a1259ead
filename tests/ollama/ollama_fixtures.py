"""Helpers for the ollama plugin tests: a UI that records what it was told, configs, cleanup."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex.config.model import Config, ModelProviderInfo, OssSettings


@dataclass
class ProgressRecord:
    """Everything one progress display was shown."""

    description: str
    updates: list[tuple[int, int | None, str]] = field(default_factory=list)
    final: str | None = None

    def update(self, completed: int, total: int | None, status: str = "") -> None:
        self.updates.append((completed, total, status))

    def close(self, final: str = "") -> None:
        self.final = final


@dataclass
class RecordingUI:
    """A ``ProviderUI`` that remembers messages and answers questions from a list."""

    interactive: bool = False
    assume_yes: bool = False
    answers: list[bool] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    progresses: list[ProgressRecord] = field(default_factory=list)

    def info(self, message: str) -> None:
        self.infos.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def confirm(self, question: str, default: bool = False) -> bool:
        self.questions.append(question)
        return self.answers.pop(0) if self.answers else default

    def progress(self, description: str) -> ProgressRecord:
        record = ProgressRecord(description)
        self.progresses.append(record)
        return record

    @property
    def text(self) -> str:
        return "\n".join(self.infos + self.warnings)


def make_config(
    oss_url: str,
    *,
    model: str = "gpt-oss:20b",
    lmstudio_url: str = "http://127.0.0.1:9/v1",
    oss_wire: str = "ollama",
    **oss: Any,
) -> Config:
    """A config as `--oss` leaves it: provider ``oss`` at ``oss_url``, ``lmstudio`` beside it."""
    providers = {
        "oss": ModelProviderInfo(id="oss", name="Ollama", base_url=oss_url, wire_api=oss_wire),
        "lmstudio": ModelProviderInfo(id="lmstudio", name="LM Studio", base_url=lmstudio_url, wire_api="chat"),
    }
    return Config(model=model, model_provider="oss", model_providers=providers, oss=OssSettings(**oss))


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kill_from_pidfile(pidfile: Path) -> None:
    """Stop a fake server started in the background (tests must not leave processes behind)."""
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text(encoding="utf-8"))
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
