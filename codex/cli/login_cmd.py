"""``codex login`` / ``codex logout``: store an OpenAI API key in ``$CODEX_HOME/auth.json``.

The file has the Rust peer's format, so a key either program stored works in the other.
Neither command loads config.toml or plugins: signing in must work when the config is broken.
"""

from __future__ import annotations

import os
import sys

import click

from codex.errors import CodexError, UsageError

KEY_VARIABLE = "OPENAI_API_KEY"
# A key is ~200 bytes; reading stops well after that, so `codex login < /dev/zero` ends.
MAX_KEY_BYTES = 16 * 1024
PIPE_EXAMPLE = "printenv OPENAI_API_KEY | codex login --with-api-key"

LOGIN_EPILOG = f"""\b
Examples:
  {PIPE_EXAMPLE}
  codex login --with-api-key < ~/.secrets/openai-key
  codex login status          how codex is signed in (exit 1 when it is not)
  codex logout                forget the stored key
\b
The key goes to $CODEX_HOME/auth.json (mode 0600), in the format the Rust Codex CLI uses,
so both programs share it. The environment variable OPENAI_API_KEY wins over the stored key
when set. Only API keys are supported: codex-py cannot use a ChatGPT sign-in.
"""


class LoginGroup(click.Group):
    """``codex login`` with an unknown word: a key typed as an argument gets a pointed refusal."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Refuse a key given as an argument, before it is echoed in an error message."""
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            word = args[0]
            if word.startswith("sk-") or len(word) >= 20:
                raise UsageError(
                    "codex login takes no key on the command line (it would stay in your shell "
                    f"history and be visible to other processes); pipe it in: `{PIPE_EXAMPLE}`"
                )
            raise UsageError(
                f"codex login has no command {word!r}; use `codex login --with-api-key` "
                "(key on stdin) or `codex login status`"
            )
        return super().resolve_command(ctx, args)


@click.group("login", cls=LoginGroup, invoke_without_command=True, epilog=LOGIN_EPILOG)
@click.option("--with-api-key", "with_api_key", is_flag=True,
              help="Read the API key from stdin (pipe it in; a terminal is refused) and store it in auth.json.")
@click.option("--api-key", "api_key", metavar="KEY", hidden=True, default=None,
              help="Not supported: a key on the command line leaks; pipe it to --with-api-key.")
@click.pass_context
def login_group(ctx: click.Context, with_api_key: bool, api_key: str | None) -> None:
    """Sign in by storing an OpenAI API key, read from stdin, in $CODEX_HOME/auth.json."""
    if ctx.invoked_subcommand is not None:
        if with_api_key:
            raise UsageError(f"--with-api-key cannot be combined with `codex login {ctx.invoked_subcommand}`")
        return
    if api_key is not None:
        raise UsageError(
            f"--api-key is not supported (the key would leak into your shell history); pipe it: `{PIPE_EXAMPLE}`"
        )
    if not with_api_key:
        raise UsageError(
            "codex-py signs in with an API key only (no ChatGPT browser sign-in); "
            f"pipe your key in: `{PIPE_EXAMPLE}`, or set OPENAI_API_KEY"
        )
    _store_key_from_stdin()


def _store_key_from_stdin() -> None:
    from codex.auth import mask_key, save_api_key

    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        raise UsageError(
            "--with-api-key reads the key from stdin, which is a terminal here; pipe it in instead "
            f"(`{PIPE_EXAMPLE}`), so the key appears neither on screen nor in your shell history"
        )
    click.echo("Reading API key from stdin...", err=True)
    data = stdin.buffer.read(MAX_KEY_BYTES + 1)
    if len(data) > MAX_KEY_BYTES:
        raise CodexError(f"stdin held more than {MAX_KEY_BYTES} bytes, which is not an API key; nothing was stored")
    try:
        key = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CodexError("stdin is not UTF-8 text, so it is not an API key; nothing was stored") from None
    if not key:
        raise CodexError(f"no API key on stdin; nothing was stored. Pipe it in: `{PIPE_EXAMPLE}`")
    if any(ch.isspace() or not ch.isprintable() for ch in key):
        raise CodexError(
            "the text on stdin has spaces, several lines or control characters, so it is not one API "
            "key; give only the key (e.g. `printenv OPENAI_API_KEY | codex login --with-api-key`). "
            "Nothing was stored"
        )
    try:
        path = save_api_key(key)
    except OSError as exc:
        raise CodexError(f"could not write the key: {exc}; nothing was stored") from None
    click.echo(f"API key {mask_key(key)} saved to {path}.")
    click.echo("It is checked when you send a request; `codex doctor` checks it now.")
    env_value = os.environ.get(KEY_VARIABLE, "").strip()
    if env_value and env_value != key:
        click.echo(
            f"Note: {KEY_VARIABLE} is set in this environment ({mask_key(env_value)}) and wins over the "
            "stored key; unset it to use the stored one.",
            err=True,
        )


STATUS_EPILOG = """\b
Examples:
  codex login status
  codex login status || echo "sign in first"
"""


@login_group.command("status", epilog=STATUS_EPILOG)
def status_command() -> None:
    """Say how codex is signed in: OPENAI_API_KEY or auth.json, key masked; exit 1 when not.

    Unlike the Rust CLI, a key in the environment counts as signed in, because codex uses it.
    """
    from codex.auth import AuthFileError, auth_path, mask_key, read_auth

    env_value = os.environ.get(KEY_VARIABLE, "").strip()
    try:
        stored = read_auth()
        problem = None
    except AuthFileError as exc:
        stored, problem = None, str(exc)
    if env_value:
        click.echo(f"Signed in with an API key from the environment variable {KEY_VARIABLE}: {mask_key(env_value)}")
        if stored is not None and stored.api_key:
            click.echo(
                f"{stored.path} also holds a key ({mask_key(stored.api_key)}), used when {KEY_VARIABLE} is unset."
            )
        if problem:
            click.echo(f"warning: {problem}", err=True)
        return
    if problem:
        raise CodexError(problem)
    if stored is not None and stored.api_key:
        click.echo(f"Signed in with an API key stored in {stored.path}: {mask_key(stored.api_key)}")
        return
    if stored is not None and stored.has_tokens:
        raise CodexError(
            f"{stored.path} holds a ChatGPT sign-in (made by the Rust Codex CLI), which codex-py cannot use; "
            f"sign in with an API key: `{PIPE_EXAMPLE}` (this replaces the ChatGPT sign-in for both programs)"
        )
    raise CodexError(
        f"Not signed in: {KEY_VARIABLE} is not set and {auth_path()} holds no key. "
        f"Set {KEY_VARIABLE}, or run `{PIPE_EXAMPLE}`"
    )


LOGOUT_EPILOG = """\b
Examples:
  codex logout
"""


@click.command("logout", epilog=LOGOUT_EPILOG)
def logout_command() -> None:
    """Remove the stored credentials ($CODEX_HOME/auth.json); exit 0 also when there were none."""
    from codex.auth import auth_path, remove_auth

    path = auth_path()
    try:
        removed = remove_auth()
    except OSError as exc:
        raise CodexError(f"could not remove {path}: {exc.strerror}") from None
    if removed:
        click.echo(f"Signed out: removed {path}.")
    else:
        click.echo(f"Not signed in: there is no {path}; nothing to remove.")
    if os.environ.get(KEY_VARIABLE, "").strip():
        click.echo(
            f"Note: {KEY_VARIABLE} is still set in this environment and codex keeps using it; "
            f"`unset {KEY_VARIABLE}` to stop.",
            err=True,
        )
