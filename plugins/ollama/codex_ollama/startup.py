"""Making a local provider ready: find or launch the server, pull the model, fix the window.

``prepare_local_provider`` is what the ``codex_provider_startup`` hook runs for ``oss`` (Ollama),
``lmstudio`` and any provider speaking the ``ollama`` wire API. Every wait is bounded and says
what it waits for; every failure is a ``CodexError`` whose message says what to do.
"""

from __future__ import annotations

import atexit
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codex.plugin import ConfigError, ProviderError
from codex_ollama.client import ServerStatus, is_loopback, probe_ollama, probe_openai_compatible, server_root
from codex_ollama.providers import LMSTUDIO_ID, OLLAMA_ID, is_local_provider, is_ollama

if TYPE_CHECKING:
    from codex.plugin import Config, ModelProviderInfo, ProviderUI

# The order in which `--oss` looks for a running local server when none is configured.
LOCAL_PROVIDER_ORDER = (OLLAMA_ID, LMSTUDIO_ID)
# gpt-oss under Ollama's names -> the names LM Studio lists for the same weights.
_LMSTUDIO_NAMES = {"gpt-oss:20b": "openai/gpt-oss-20b", "gpt-oss:120b": "openai/gpt-oss-120b"}
_WAIT_REPORT_SECONDS = 5
_APPROX_SIZES = {"gpt-oss:20b": "about 14 GB", "gpt-oss:120b": "about 65 GB"}


@dataclass
class StartupEnv:
    """What startup touches outside itself, replaceable in tests."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    which: Callable[[str], str | None] = shutil.which
    log_path: Path | None = None
    at_exit: Callable[[Callable[[], None]], object] = atexit.register
    start_timeout: float = 30.0
    probe: Callable[[str], ServerStatus] = probe_ollama
    probe_openai: Callable[[str], ServerStatus] = probe_openai_compatible
    launched: list[object] = field(default_factory=list)


def select_local_provider(config: Config, startup: StartupEnv | None = None) -> str | None:
    """The id of the first local server that answers (Ollama, then LM Studio), or None.

    ``oss_provider`` in the config wins when set. The loader (or startup) calls this when
    ``--oss`` is given without a configured choice::

        provider_id = select_local_provider(config) or "oss"
    """
    if config.oss_provider:
        return config.oss_provider
    startup = startup or StartupEnv()
    for provider_id in LOCAL_PROVIDER_ORDER:
        entry = config.model_providers.get(provider_id)
        if entry is None or not entry.base_url:
            continue
        probe = startup.probe if provider_id == OLLAMA_ID else startup.probe_openai
        if probe(entry.base_url).reachable:
            return provider_id
    return None


def prepare_local_provider(
    provider: ModelProviderInfo, config: Config, ui: ProviderUI, startup: StartupEnv | None = None
) -> bool:
    """Make ``provider`` ready for ``config.model``; False when it is not a local provider.

    Ollama: probe, launch ``ollama serve`` when allowed (or explain how to install it), pull
    the model with progress, fix the context window. LM Studio: check that it runs and has
    the model. With ``--oss`` and no ``oss_provider``, an absent Ollama with a running LM Studio
    switches ``config.model_provider`` to ``lmstudio``.
    """
    if not is_local_provider(provider):
        return False
    startup = startup or StartupEnv()
    _check_port_variable(startup.env)
    if provider.id == LMSTUDIO_ID and not is_ollama(provider):
        _prepare_lmstudio(provider, config, ui, startup)
        return True
    base_url = provider.base_url or ""
    if not base_url:
        raise ConfigError(f"model_providers.{provider.id}.base_url is not set; Ollama listens on http://localhost:11434/v1")
    status = startup.probe(base_url)
    if not status.reachable and provider.id == OLLAMA_ID and not config.oss_provider:
        other = config.model_providers.get(LMSTUDIO_ID)
        if other is not None and other.base_url and startup.probe_openai(other.base_url).reachable:
            ui.info(
                f"Ollama is not running at {server_root(base_url)}, but LM Studio answers at {other.base_url}: "
                "using it."
            )
            config.model_provider = LMSTUDIO_ID
            _prepare_lmstudio(other, config, ui, startup)
            return True
    if status.reachable:
        ui.info(f"Ollama {status.version} at {status.url}")
    else:
        status = _start_ollama(provider, config, ui, startup, status)
    _set_context_window(provider, config, ui)
    if not status.has_model(config.model):
        from codex_ollama.pull import pull_model

        size = _APPROX_SIZES.get(config.model, "")
        ui.info(f"Model {config.model} is not in Ollama yet; downloading it{f' ({size})' if size else ''}.")
        pull_model(base_url, config.model, ui)
    return True


def _check_port_variable(env: Mapping[str, str]) -> None:
    port = env.get("CODEX_OSS_PORT", "").strip()
    if port and not env.get("CODEX_OSS_BASE_URL", "").strip() and not (port.isdigit() and 0 < int(port) < 65536):
        raise ConfigError(f"CODEX_OSS_PORT={port!r} is not a TCP port; expected a number such as 11434")


def _set_context_window(provider: ModelProviderInfo, config: Config, ui: ProviderUI) -> None:
    """Fix the session's window on the provider entry, where the ``ollama`` wire API reads it."""
    if provider.context_window is None:  # a user's [model_providers.oss] context_window wins
        provider.context_window = config.oss.context_window
    if provider.wire_api != "ollama":
        ui.warn(
            f"provider {provider.id!r} uses wire_api {provider.wire_api!r}: Ollama then runs the model with "
            "the server's own context length (OLLAMA_CONTEXT_LENGTH, often only a few thousand tokens) and "
            "silently drops the start of long prompts. Use wire_api = \"ollama\" to send oss.context_window."
        )


def _start_ollama(
    provider: ModelProviderInfo, config: Config, ui: ProviderUI, startup: StartupEnv, status: ServerStatus
) -> ServerStatus:
    base_url = provider.base_url or ""
    root = server_root(base_url)
    if not is_loopback(base_url):
        raise ProviderError(
            f"no answer from Ollama at {root} ({status.error}). Check that it runs there, or point codex at "
            "another server with CODEX_OSS_BASE_URL or [model_providers.oss] base_url in config.toml."
        )
    executable = startup.which("ollama")
    if executable is None:
        executable = _offer_install(ui, startup)
    allowed = config.oss.autostart or ui.assume_yes
    if not allowed and ui.interactive:
        allowed = ui.confirm(f"Ollama is not running at {root}. Start it now (`ollama serve`)?", default=True)
    if not allowed:
        raise ProviderError(
            f"Ollama is installed ({executable}) but not running at {root}. Start it with `ollama serve` (or open "
            "the Ollama app), or let codex start it: pass --yes, or set `oss.autostart = true` in config.toml "
            "(once: -c oss.autostart=true)."
        )
    from codex_ollama.interrupt import interruptible
    from codex_ollama.launch import default_log_path, launch_server, wait_until_ready

    log_path = startup.log_path or default_log_path()
    ui.info(f"Starting Ollama (`{executable} serve`); waiting up to {startup.start_timeout:g} s for it at {root}...")
    server = launch_server(
        executable, base_url, log_path=log_path, context_window=config.oss.context_window, env=startup.env
    )
    startup.launched.append(server)
    began = time.monotonic()
    reported = [0]

    def on_wait(elapsed: float) -> None:
        # A line every few seconds: a redrawn spinner would need a terminal, and a silent wait
        # looks like a hang.
        if elapsed >= reported[0] + _WAIT_REPORT_SECONDS:
            reported[0] = int(elapsed)
            ui.info(f"still waiting for Ollama at {root} ({int(elapsed)} s of {startup.start_timeout:g} s)")

    try:
        with interruptible():
            ready = wait_until_ready(
                server, base_url, timeout=startup.start_timeout, on_wait=on_wait, probe=startup.probe
            )
    except KeyboardInterrupt:
        server.stop()
        raise ProviderError(
            "interrupted while waiting for Ollama to start; codex stopped the server it started."
        ) from None
    ui.info(f"Ollama {ready.version} is up at {root} (started in {time.monotonic() - began:.1f} s). Log: {log_path}")
    if config.oss.stop_on_exit:
        startup.at_exit(server.stop)
        ui.info("It will be stopped when codex exits (oss.stop_on_exit = true).")
    else:
        server.release()
        ui.info(
            f"It stays running for later sessions (pid {server.pid}); stop it with `kill {server.pid}`, or set "
            "oss.stop_on_exit = true to have codex stop it."
        )
    return ready


def _offer_install(ui: ProviderUI, startup: StartupEnv) -> str:
    """Install Ollama after an explicit "yes" typed in a terminal; otherwise explain and fail."""
    from codex_ollama.install import install_instructions, installer_command, run_installer

    text = install_instructions()
    command = installer_command(which=startup.which)
    # Running a downloaded installer needs a person's explicit yes: not --yes, not config.
    if command is not None and ui.interactive and not ui.assume_yes:
        ui.info(text)
        if ui.confirm(f"Run `{' '.join(command)}` now?", default=False):
            code = run_installer(command)
            executable = startup.which("ollama")
            if code == 0 and executable is not None:
                ui.info(f"Ollama is installed: {executable}")
                return executable
            raise ProviderError(f"the Ollama installer failed (exit status {code}). {text}")
    raise ProviderError(text)


def _prepare_lmstudio(provider: ModelProviderInfo, config: Config, ui: ProviderUI, startup: StartupEnv) -> None:
    base_url = provider.base_url or ""
    status = startup.probe_openai(base_url)
    if not status.reachable:
        raise ProviderError(
            f"LM Studio's server is not answering at {base_url} ({status.error}). Start it in LM Studio "
            "(Developer tab, Start Server) or with `lms server start`, then run codex again."
        )
    ui.info(f"LM Studio at {base_url}")
    if status.has_model(config.model) or not status.models:
        return
    alias = _LMSTUDIO_NAMES.get(config.model)
    if alias is not None and status.has_model(alias):
        config.model = alias
        return
    listed = ", ".join(status.models[:10])
    wanted = alias or config.model
    raise ProviderError(
        f"LM Studio has no model {config.model!r} (it lists: {listed}). Download it with `lms get {wanted}` "
        "or in LM Studio, or pick a listed one with -m."
    )
