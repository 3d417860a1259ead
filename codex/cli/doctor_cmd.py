"""``codex doctor``: the place to go when something is off.

Each check is independent and bounded in time; one that fails says what to do. A check that
needs a valid configuration is skipped (saying why) when config.toml does not load, so the
config error is the first thing the reader fixes.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from codex.cli.options import agent_options, loaded_config, plugin_manager

if TYPE_CHECKING:
    from codex.config.loader import LoadedConfig
    from codex.config.model import ModelProviderInfo

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
LABELS = {OK: "ok", WARN: "warn", FAIL: "FAIL", SKIP: "skip"}
DEFAULT_TIMEOUT = 5.0
# How much of a provider's error answer is quoted (the rest is usually an HTML page).
QUOTE_CHARS = 200

EPILOG = """\b
Examples:
  codex doctor                      every check, one line each, with a fix for each failure
  codex doctor --json | jq '.checks[] | select(.status == "fail")'
  codex doctor --timeout 2          give up on the provider sooner
  codex --oss doctor                check the local (Ollama) provider instead
  codex -c model_provider=azure doctor
\b
Checks: codex (version, install path), CODEX_HOME, plugins, config (config.toml and -c),
key (the selected provider's API key: present, and from where), provider (a bounded
GET {base_url}/models), mcp:NAME (each [mcp_servers] entry started and its tools listed, bounded
by startup_timeout_sec), sandbox (the backends for this operating system), git.
Exit status 1 when a check failed (warnings do not count), else 0.
"""


@dataclass
class Check:
    """One line of the report: what was checked, the verdict, and what to do when it failed."""

    name: str
    status: str
    summary: str
    fix: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@click.command("doctor", epilog=EPILOG)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object ({ok, checks: [...]}) on stdout.")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=120), default=DEFAULT_TIMEOUT, show_default=True,
              metavar="SECONDS", help="How long the provider request may take.")
@agent_options
@click.pass_context
def doctor_command(ctx: click.Context, /, as_json: bool, timeout: float, **_flags: object) -> None:
    """Check this installation: version, CODEX_HOME, config.toml, the provider's key and
    reachability, each MCP server, the sandbox and git; exit 1 when something is broken.

    Global flags apply (-c, -p, --oss, -m): the checks see the configuration a session would.
    """
    checks = run_checks(ctx, timeout)
    failed = [c for c in checks if c.status == FAIL]
    if as_json:
        import json

        document = {"ok": not failed, "checks": [asdict(c) for c in checks]}
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(render(checks))
    ctx.exit(1 if failed else 0)


def run_checks(ctx: click.Context, timeout: float) -> list[Check]:
    """Every check, in the order a person would fix things."""
    checks = [check_install(), check_home()]
    pm = plugin_manager(ctx)
    checks.append(check_plugins(pm))
    config_check, loaded = check_config(ctx)
    checks.append(config_check)
    if loaded is None:
        reason = "skipped: config.toml must load first"
        checks += [Check("key", SKIP, reason), Check("provider", SKIP, reason), Check("mcp", SKIP, reason)]
    else:
        provider = loaded.config.provider()
        key_check, key = check_key(provider)
        checks.append(key_check)
        checks.append(check_provider(provider, key, timeout))
        checks.extend(check_mcp_servers(loaded))
    checks.append(check_sandbox(ctx, loaded))
    checks.append(check_git(loaded.cwd if loaded is not None else Path.cwd()))
    return checks


def render(checks: list[Check]) -> str:
    """The human report: one line per check, a ``fix:`` line under each failure or warning."""
    width = max(len(c.name) for c in checks)
    lines = []
    for check in checks:
        lines.append(f"{LABELS[check.status]:<4}  {check.name:<{width}}  {check.summary}")
        if check.fix and check.status in (FAIL, WARN):
            lines.append(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    if failed:
        lines.append(f"\n{failed} check(s) failed, {warned} warning(s): see the fix lines above.")
    else:
        lines.append(f"\nAll checks passed ({warned} warning(s)).")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ the checks


def check_install() -> Check:
    """Version, where the package is installed, and the interpreter running it."""
    import platform

    import codex

    where = str(Path(codex.__file__).resolve().parent)
    return Check(
        "codex", OK,
        f"codex-py {codex.__version__} at {where} (Python {platform.python_version()}, {sys.executable})",
        details={"version": codex.__version__, "path": where, "python": sys.executable,
                 "python_version": platform.python_version()},
    )


def check_home() -> Check:
    """CODEX_HOME: where it is, and that it is a private directory codex can write."""
    import stat

    from codex.home import codex_home

    home = codex_home()
    origin = "$CODEX_HOME" if os.environ.get("CODEX_HOME", "").strip() else "default"
    details: dict[str, Any] = {"path": str(home), "origin": origin}
    try:
        info = home.stat()
    except FileNotFoundError:
        return Check("CODEX_HOME", OK, f"{home} ({origin}) does not exist yet; codex creates it (0700) when needed",
                     details=details)
    except OSError as exc:
        return Check("CODEX_HOME", FAIL, f"{home}: {exc.strerror}", fix="check the path and its permissions",
                     details=details)
    if not stat.S_ISDIR(info.st_mode):
        return Check("CODEX_HOME", FAIL, f"{home} ({origin}) is not a directory",
                     fix="move the file away, or point CODEX_HOME at a directory", details=details)
    mode = stat.S_IMODE(info.st_mode)
    details["mode"] = f"{mode:04o}"
    if not os.access(home, os.W_OK | os.X_OK):
        return Check("CODEX_HOME", FAIL, f"{home} ({origin}) is not writable by you",
                     fix=f"chown it to your user, or point CODEX_HOME elsewhere (mode {mode:04o})", details=details)
    if mode & 0o077:
        return Check("CODEX_HOME", WARN, f"{home} ({origin}) is readable by other users (mode {mode:04o})",
                     fix=f"chmod 700 {home} (it holds sessions, history and maybe an API key)", details=details)
    return Check("CODEX_HOME", OK, f"{home} ({origin}, mode {mode:04o})", details=details)


def check_plugins(pm: Any) -> Check:
    """Every installed plugin loaded."""
    records = list(pm.records.values())
    broken = [r for r in records if r.error is not None]
    details = {"loaded": sorted(r.name for r in records if r.error is None),
               "broken": {r.name: r.error for r in broken}}
    if broken:
        names = ", ".join(sorted(r.name for r in broken))
        first = broken[0]
        return Check(
            "plugins", WARN, f"{len(broken)} of {len(records)} failed to load: {names} ({first.name}: {first.error})",
            fix=f"see `codex plugins`; reinstall or disable them with CODEX_DISABLE_PLUGINS={broken[0].name}",
            details=details,
        )
    return Check("plugins", OK, f"{len(records)} loaded", details=details)


def check_config(ctx: click.Context) -> tuple[Check, LoadedConfig | None]:
    """config.toml, the profile and -c overrides load and validate."""
    from codex.errors import CodexError
    from codex.home import codex_home

    path = codex_home() / "config.toml"
    try:
        loaded = loaded_config(ctx)
    except CodexError as exc:
        return Check("config", FAIL, str(exc), fix=f"edit {path} (or the -c option) as the message says",
                     details={"path": str(path)}), None
    exists = path.is_file()
    where = str(path) if exists else f"{path} (absent: built-in defaults)"
    config = loaded.config
    summary = f"{where}: model {config.model!r}, provider {config.model_provider!r}"
    details: dict[str, Any] = {"path": str(path), "exists": exists, "model": config.model,
                               "model_provider": config.model_provider, "warnings": list(loaded.warnings)}
    if loaded.warnings:
        return Check("config", WARN, f"{summary}; {len(loaded.warnings)} warning(s): {loaded.warnings[0]}",
                     fix="see `codex config show`; fix or remove the keys named", details=details), loaded
    return Check("config", OK, summary, details=details), loaded


def check_key(provider: ModelProviderInfo) -> tuple[Check, str | None]:
    """The selected provider's API key: needed? present? from which place?"""
    from codex.auth import AuthFileError, key_origin, mask_key, read_auth

    label = provider.id or provider.name
    if not provider.env_key and not provider.requires_openai_auth:
        return Check("key", OK, f"provider {label!r} needs no API key", details={"needed": False}), None
    try:
        origin = key_origin(provider.env_key, use_auth_file=provider.requires_openai_auth)
    except AuthFileError as exc:
        return Check("key", FAIL, str(exc), fix="run `codex logout`, then `codex login --with-api-key`",
                     details={"needed": True}), None
    if origin is None:
        from codex.auth import auth_path

        places = [f"${provider.env_key}"] if provider.env_key else []
        if provider.requires_openai_auth:
            places.append(str(auth_path()))
        fix = f"set {provider.env_key}" if provider.env_key else ""
        if provider.requires_openai_auth:
            fix += (", or run " if fix else "run ") + "`printenv OPENAI_API_KEY | codex login --with-api-key`"
        fix = provider.env_key_instructions or fix
        summary = f"provider {label!r} needs an API key; none in {' or '.join(places)}"
        stored = read_auth() if provider.requires_openai_auth else None
        if stored is not None and stored.has_tokens:
            summary += " (it holds a ChatGPT sign-in of the Rust CLI, which codex-py cannot use)"
        return Check("key", FAIL, summary, fix=fix, details={"needed": True, "source": None}), None
    details = {"needed": True, "source": origin.kind, "where": origin.where, "masked": mask_key(origin.key)}
    summary = f"{mask_key(origin.key)} from {origin.describe()}"
    if origin.kind == "auth.json":
        import stat

        mode = stat.S_IMODE(os.stat(origin.where).st_mode)
        if mode & 0o077:
            return Check("key", WARN, f"{summary}, which other users can read (mode {mode:04o})",
                         fix=f"chmod 600 {origin.where}", details=details), origin.key
    return Check("key", OK, summary, details=details), origin.key


def check_provider(provider: ModelProviderInfo, key: str | None, timeout: float) -> Check:
    """One bounded ``GET {base_url}/models``: any HTTP answer proves the server is reachable;
    401/403 with a key means the key is refused."""
    import httpx2

    from codex.errors import CodexError
    from codex.http import describe_transport_error, endpoint_url, is_loopback, user_agent

    label = provider.id or provider.name
    try:
        url = endpoint_url(provider, "models")
    except CodexError as exc:
        return Check("provider", FAIL, str(exc), fix=f"fix model_providers.{label}.base_url")
    details: dict[str, Any] = {"provider": label, "base_url": provider.base_url, "url": url,
                               "wire_api": provider.wire_api}
    headers = {"User-Agent": user_agent(), "Accept": "application/json", **(provider.http_headers or {})}
    for header, variable in (provider.env_http_headers or {}).items():
        if os.environ.get(variable, "").strip():
            headers[header] = os.environ[variable].strip()
    if key:
        headers["Authorization"] = f"Bearer {key}"
    where = f"{label!r} at {provider.base_url}"
    try:
        # Loopback servers are asked directly; others through the proxies the environment names,
        # as a session would.
        with httpx2.Client(timeout=timeout, trust_env=not is_loopback(url), follow_redirects=False) as client:
            response = client.get(url, headers=headers)
    except httpx2.TimeoutException:
        return Check("provider", FAIL, f"{where}: no answer within {timeout:g} s",
                     fix="check the network, a proxy (HTTPS_PROXY), or base_url / OPENAI_BASE_URL; "
                         "--timeout waits longer", details=details)
    except httpx2.HTTPError as exc:
        return Check("provider", FAIL, f"{where}: cannot connect: {describe_transport_error(exc)}",
                     fix=_unreachable_fix(provider), details=details)
    status = response.status_code
    details["status"] = status
    if status in (401, 403):
        text = response.text[:QUOTE_CHARS].strip()
        if key:
            return Check("provider", FAIL, f"{where} refused the key (HTTP {status}): {text}",
                         fix="check the key (`codex login status`); store a new one with `codex login --with-api-key`",
                         details=details)
        return Check("provider", WARN, f"{where} is reachable and wants a key (HTTP {status})",
                     fix="see the key check above", details=details)
    if 200 <= status < 300:
        return Check("provider", OK, f"{where} answered GET /models (HTTP {status})", details=details)
    return Check("provider", WARN, f"{where} is reachable but answered GET /models with HTTP {status}",
                 fix="many compatible servers lack /models; if sessions fail, check base_url and wire_api",
                 details=details)


def _unreachable_fix(provider: ModelProviderInfo) -> str:
    from codex.http import is_loopback

    label = provider.id or provider.name
    if is_loopback(provider.base_url or ""):
        return f"start the server at {provider.base_url}, or fix model_providers.{label}.base_url"
    fix = f"check the network and proxies, or model_providers.{label}.base_url"
    if label == "openai":
        fix += " and OPENAI_BASE_URL"
    return fix


def check_mcp_servers(loaded: LoadedConfig) -> list[Check]:
    """Start every ``[mcp_servers]`` entry as a session would (bounded by its startup_timeout_sec),
    list its tools, and stop it."""
    if not loaded.config.mcp_servers:
        return [Check("mcp", OK, "no [mcp_servers] configured")]
    import asyncio

    from codex.tools.mcp_client import start_mcp_servers

    async def start_all() -> tuple[dict[str, int], dict[str, str]]:
        connections = await start_mcp_servers(loaded.config, cwd=loaded.cwd)
        try:
            counts = {name: 0 for name in connections.servers}
            for info in connections.infos:
                counts[info.server] += 1
            return counts, dict(connections.failures)
        finally:
            await connections.aclose()

    counts, failures = asyncio.run(start_all())
    checks = []
    for name, server in sorted(loaded.config.mcp_servers.items()):
        what = server.url or " ".join([server.command or "", *server.args]).strip()
        details = {"server": name, "command_or_url": what, "startup_timeout_sec": server.startup_timeout_sec}
        if name in failures:
            checks.append(Check(f"mcp:{name}", FAIL, f"{what}: {failures[name]}",
                                fix=f"fix [mcp_servers.{name}] in config.toml (run the command yourself to see "
                                    "its error), or remove the table", details=details))
        else:
            details["tools"] = counts.get(name, 0)
            checks.append(Check(f"mcp:{name}", OK, f"{what}: started, {counts.get(name, 0)} tool(s)",
                                details=details))
    return checks


def check_sandbox(ctx: click.Context, loaded: LoadedConfig | None) -> Check:
    """The sandbox backends meant for this operating system: which work, which one a session uses."""
    from codex.plugins import collect_registry

    registry = collect_registry(plugin_manager(ctx), "codex_sandboxes", "sandbox backend")
    backends: dict[str, Any] = {}
    available: list[tuple[int, str]] = []
    for name, backend in registry.items():
        platforms = getattr(backend, "platforms", None)
        if name == "none" or (platforms and not any(sys.platform.startswith(p) for p in platforms)):
            continue  # the other operating systems' backends say nothing useful here
        try:
            status = backend.availability()
            entry = {"available": status.available, "reason": status.reason, "details": dict(status.details)}
        except Exception as exc:  # a broken backend must not hide the others
            entry = {"available": False, "reason": f"broken: {type(exc).__name__}: {exc}", "details": {}}
        entry["plugin"] = registry.plugin_of(name)
        backends[name] = entry
        if entry["available"] and backend.priority > 0:
            available.append((backend.priority, name))
    mode = loaded.config.sandbox_mode if loaded is not None else "read-only"
    wanted = loaded.config.sandbox_backend if loaded is not None else "auto"
    details: dict[str, Any] = {"platform": sys.platform, "sandbox_mode": mode, "sandbox_backend": wanted,
                               "backends": backends}
    listing = ", ".join(
        f"{name} ({'available' if e['available'] else 'unavailable: ' + str(e['reason'])})"
        for name, e in sorted(backends.items())
    ) or "none for this system"
    if wanted != "auto":
        wanted_entry = backends.get(wanted)
        if wanted_entry is None or not wanted_entry["available"]:
            reason = "not installed for this system" if wanted_entry is None else wanted_entry["reason"]
            return Check("sandbox", FAIL, f"sandbox_backend = {wanted!r} cannot be used here: {reason}",
                         fix='set sandbox_backend = "auto", or install/repair that backend', details=details)
        chosen: str | None = wanted
    else:
        chosen = max(available)[1] if available else None
    details["chosen"] = chosen
    if chosen is None:
        if mode == "danger-full-access":
            return Check("sandbox", OK, f"sandbox_mode danger-full-access needs none; backends: {listing}",
                         details=details)
        return Check("sandbox", FAIL, f"no sandbox backend works here ({listing}); {mode} commands will be "
                     "refused or need approval to run unconfined",
                     fix="see `codex sandbox status`; on Linux the kernel needs Landlock (5.13+), or install a "
                         "backend plugin such as codex-sandbox-bwrap", details=details)
    return Check("sandbox", OK, f"{chosen} confines {mode} commands; backends: {listing}", details=details)


def check_git(cwd: Path) -> Check:
    """git is installed, and whether this directory is in a repository (``codex exec`` wants one)."""
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        return Check("git", WARN, "git is not installed",
                     fix="install git: codex shows diffs with it and `codex exec` checks for a repository")
    try:
        version = subprocess.run([git, "--version"], capture_output=True, text=True, timeout=10, check=False)
        inside = subprocess.run([git, "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True,
                                timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("git", WARN, f"{git} does not run: {exc}", fix="reinstall git")
    details = {"path": git, "version": version.stdout.strip(), "repository": None}
    if inside.returncode != 0:
        return Check("git", WARN, f"{version.stdout.strip()}; {cwd} is not in a git repository",
                     fix="`git init` here, or pass --skip-git-repo-check to `codex exec`", details=details)
    details["repository"] = inside.stdout.strip()
    return Check("git", OK, f"{version.stdout.strip()}; repository {inside.stdout.strip()}", details=details)
