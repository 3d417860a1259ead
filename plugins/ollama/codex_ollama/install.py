"""How to install Ollama on this machine, and running the official installer when asked to.

The installer is only ever run after an explicit "yes" typed in an interactive terminal:
it downloads and runs code with the person's privileges, which ``--yes`` or a config setting
must not decide for them.
"""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Callable

LINUX_INSTALLER = "curl -fsSL https://ollama.com/install.sh | sh"
# Installing takes a minute or two on a good connection; past this something is stuck.
INSTALL_TIMEOUT_SECONDS = 15 * 60


def install_instructions(system: str | None = None) -> str:
    """What to run to install Ollama on ``system`` (``platform.system()`` by default)."""
    system = system or platform.system()
    if system == "Linux":
        return (
            "Ollama is not installed (no `ollama` on PATH). Install it with the official script:\n"
            f"    {LINUX_INSTALLER}\n"
            "then run codex again (see https://ollama.com/download/linux)."
        )
    if system == "Darwin":
        return (
            "Ollama is not installed (no `ollama` on PATH). Install the app from https://ollama.com/download/mac "
            "and open it once, or use Homebrew:\n"
            "    brew install ollama\n"
            "then run codex again."
        )
    if system == "Windows":
        return (
            "Ollama is not installed (no `ollama` on PATH). Install it from https://ollama.com/download/windows, "
            "or with winget:\n"
            "    winget install Ollama.Ollama\n"
            "then open a new terminal and run codex again."
        )
    return (
        f"Ollama is not installed (no `ollama` on PATH), and codex knows no installer for {system or 'this system'}. "
        "See https://ollama.com/download, then run codex again."
    )


def installer_command(system: str | None = None, which: Callable[[str], str | None] | None = None) -> list[str] | None:
    """The command that installs Ollama here, or None when there is no unattended way."""
    import shutil

    system = system or platform.system()
    find = which or shutil.which
    if system == "Linux" and find("sh") and find("curl"):
        return ["sh", "-c", LINUX_INSTALLER]
    if system == "Darwin" and find("brew"):
        return ["brew", "install", "ollama"]
    if system == "Windows" and find("winget"):
        return ["winget", "install", "--id", "Ollama.Ollama", "-e"]
    return None


def run_installer(command: list[str]) -> int:
    """Run the installer attached to the terminal (it may ask for a sudo password); its exit status."""
    try:
        return subprocess.run(command, check=False, timeout=INSTALL_TIMEOUT_SECONDS).returncode
    except subprocess.TimeoutExpired:
        return -1
    except OSError:
        return 127
