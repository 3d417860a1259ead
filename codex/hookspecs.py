"""The whole extension surface of codex: pluggy hook specifications.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names match these
specs. Built-in capabilities register through exactly the same hooks as third-party ones.
Hooks that name registries return data (objects or dicts); they never do network I/O while
registering and never reach into global state.

A minimal third-party plugin (it imports from ``codex.plugin`` only; see docs/plugins.md)::

    from codex.plugin import hookimpl

    CODEX_PLUGIN_API = "1.1"

    @hookimpl
    def codex_model_providers():
        return {"acme": {"name": "Acme", "base_url": "https://api.acme.test/v1",
                         "env_key": "ACME_API_KEY", "wire_api": "chat"}}

Every hook is called through pluggy itself, so the options of ``pluggy.HookimplMarker`` mean
what pluggy's documentation says: ``tryfirst``/``trylast`` order the implementations,
``wrapper=True`` (or the older ``hookwrapper=True``) wraps all of them and may change the
answer. A wrapper that offers one more tool and drops another::

    @hookimpl(wrapper=True)
    def codex_tools(config):
        offered = yield                      # one list per plugin that offered tools
        kept = [[t for t in tools if t.name != "update_plan"] for tools in offered]
        return [*kept, [my_tool()]]

**When two plugins offer one name** (a tool, wire API, provider, sandbox backend or approval
policy), the entry that comes first in pluggy's answer is used and codex warns at start naming
both plugins. pluggy asks ``tryfirst`` implementations first, ``trylast`` ones last, and among
the rest the plugin registered last first. Built-ins register before installed plugins, so an
installed plugin's entry wins over a built-in's of the same name unless it is marked
``trylast``; between two installed plugins, mark the one that should win ``tryfirst``.

An implementation that raises is left out of the answer (codex calls the hook again without
that plugin) and is reported naming the plugin and the hook. Registry hooks should return
data and nothing else: codex may call one more than once, e.g. each plugin on its own to learn
which plugin offered what when a wrapper could have changed the answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from codex.approval.policy import ApprovalPolicy
    from codex.config.model import Config, ModelProviderInfo
    from codex.events import Event
    from codex.hook_types import HookContext, ToolCall, ToolDecision
    from codex.sandbox import SandboxBackend
    from codex.tools.base import Tool
    from codex.ui import ProviderUI
    from codex.wire import WireApi

PROJECT = "codex"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def codex_wire_apis() -> dict[str, WireApi]:  # type: ignore[empty-body]
    """Wire-API clients by name, e.g. ``{"responses": ResponsesApi()}``.

    A provider entry's ``wire_api`` selects one. Return cheap objects: import httpx2 inside
    ``stream()``, not at module import time::

        @hookimpl
        def codex_wire_apis():
            from my_plugin.wire import AnthropicApi
            return {"anthropic": AnthropicApi()}
    """


@hookspec
def codex_model_providers() -> dict[str, dict[str, Any]]:  # type: ignore[empty-body]
    """Built-in provider entries, the same shape as ``[model_providers.<id>]`` in config.toml.

    A user's table of the same id overrides the plugin's entry field by field::

        @hookimpl
        def codex_model_providers():
            return {"openai": {"name": "OpenAI", "base_url": "https://api.openai.com/v1",
                               "env_key": "OPENAI_API_KEY", "wire_api": "responses"}}
    """


@hookspec(firstresult=True)
def codex_provider_startup(provider: ModelProviderInfo, config: Config, ui: ProviderUI) -> bool | None:
    """Make a provider ready before the first request (launch a local server, pull a model).

    Return True when this plugin handled the provider, None to let others try. Raise a
    ``CodexError`` with an actionable message when the provider cannot be made ready::

        @hookimpl
        def codex_provider_startup(provider, config, ui):
            if provider.id != "oss":
                return None
            ensure_server_running(provider, ui)
            return True
    """


@hookspec
def codex_sandboxes() -> list[SandboxBackend]:  # type: ignore[empty-body]
    """Sandbox backends, each able to say whether it is available on this machine::

        @hookimpl
        def codex_sandboxes():
            return [LandlockBackend()]
    """


@hookspec
def codex_tools(config: Config) -> list[Tool]:  # type: ignore[empty-body]
    """Tools offered to the model, given the session's config (return [] to offer none).

    A tool's ``parameters`` are a JSON Schema of an object. codex checks every call against it
    (one validator for built-in, plugin and MCP tools) and tells the model which field is wrong
    instead of calling the handler; the handler receives the checked arguments as a plain dict,
    top-level defaults filled in. ``ctx.run_command(argv)`` runs a command under the session's
    approval policy and sandbox, as the shell tool would. Calls show as ``tool_call`` items in
    every face and are recorded in the session's rollout::

        from codex.plugin import Tool, ToolResult

        async def count_words(args, ctx):
            text = (ctx.cwd / args["path"]).read_text()
            return ToolResult(str(len(text.split())))

        @hookimpl
        def codex_tools(config):
            return [Tool("word_count", "Count the words in a file.",
                         {"type": "object", "properties": {"path": {"type": "string"}},
                          "required": ["path"]},
                         count_words, read_only=True)]

    A pydantic model class as ``parameters`` still works (deprecated: it is converted to JSON
    Schema once, and its handler receives an instance of the model, as in plugin API 1.0).
    """


@hookspec
def codex_config_schema() -> dict[str, Any]:  # type: ignore[empty-body]
    """Config tables this plugin reads: ``{name: schema}`` for ``[plugins.<name>]`` in config.toml.

    A schema is a pydantic model class or a JSON Schema dict (``{"type": "object",
    "properties": ...}``). codex checks the table (in config.toml, a profile, or ``-c
    plugins.<name>.key=...``) against it on every run and reports a wrong value like any other
    setting: ``config.toml:12:9: plugins.<name>.<key>: expected ...; got ...``. A declared table
    is never warned about as unknown; ``codex config show`` prints it with the origin of each value.
    Read it through the config your hooks receive: ``config.plugin_config(name)`` is the model
    instance (pydantic) or the checked dict with the schema's defaults filled in (JSON Schema)::

        @hookimpl
        def codex_config_schema():
            return {"word-count": {"type": "object",
                                   "properties": {"max_words": {"type": "integer", "default": 100}}}}

        @hookimpl
        def codex_tools(config):
            limit = config.plugin_config("word-count")["max_words"]
            ...
    """


@hookspec
def codex_approval_policies() -> dict[str, ApprovalPolicy]:  # type: ignore[empty-body]
    """Approval policies by name (``untrusted``, ``on-failure``, ``on-request``, ``never``)::

        @hookimpl
        def codex_approval_policies():
            return {"paranoid": ParanoidPolicy()}
    """


@hookspec
def codex_cli_commands(cli: click.Group) -> None:
    """Add subcommands to the ``codex`` command group (as simonw/llm does)::

        @hookimpl
        def codex_cli_commands(cli):
            @cli.command()
            def hello():
                "Say hello."
                click.echo("hello")
    """


@hookspec
def codex_before_tool_call(call: ToolCall, context: HookContext) -> ToolDecision | None:
    """Look at every tool call before it runs: shell, apply_patch, update_plan, plugin and MCP tools.

    Return None (no opinion), ``Allow()``, ``Deny(reason)`` (nothing runs; the model is told the
    reason), ``Ask(reason)`` (the person is asked through the session's approval path; under
    ``codex exec`` or ``approval_policy = never`` it is a refusal the model is told) or
    ``Rewrite(arguments)`` (the call runs with these arguments, checked against the tool's
    schema). The gate runs once per call, before the approval policy and the sandbox, which
    still apply afterwards: ``Allow`` never bypasses them.

    Every implementation is asked; the strictest answer wins: ``Deny`` over ``Ask`` over
    ``Rewrite`` over ``Allow``. Among several of one kind the first in pluggy's call order wins
    (``tryfirst`` implementations first, then the last registered). An implementation may be
    ``async def``; keep a sync one quick, it runs on the session's event loop. One that raises,
    or returns something that is not a decision, stops the call: the model gets a failed result
    naming the plugin, and the session goes on::

        from codex.plugin import Deny, Rewrite

        @hookimpl
        def codex_before_tool_call(call, context):
            if call.name == "shell" and "rm" in call.arguments.get("command", []):
                return Deny("deleting files is not allowed in this project")
            if call.name == "shell" and call.arguments.get("timeout_ms") is None:
                return Rewrite({**call.arguments, "timeout_ms": 10_000})
            return None
    """


@hookspec
def codex_event(event: Event, context: HookContext) -> None:
    """See every event the session emits, in order (``event.msg.type`` says which kind).

    Observers get each event just before the face (exec, the terminal UI, the MCP server) does,
    and cannot change it. A sync implementation is called inline, as each event is
    emitted: it must return quickly (write a line, start a process and not wait for it). An
    ``async def`` implementation is started as a background task and given 5 seconds; the turn
    never waits for it. An observer that raises or overruns is reported once as a warning naming
    the plugin and is not called again in this session; the session goes on::

        from codex.plugin import events

        @hookimpl
        def codex_event(event, context):
            if isinstance(event.msg, events.TaskComplete):
                log.write(f"turn {event.id} done: {event.msg.last_agent_message}\n")
    """
