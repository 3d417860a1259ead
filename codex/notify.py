"""``notify``: run a program of the person's choice when a turn completes (a built-in observer).

With ``notify = ["notify-send", "codex"]`` in config.toml, each completed turn starts
``notify-send codex '<json>'``: the configured argv plus one argument, the JSON the Rust codex
0.169 sends (``{"type": "agent-turn-complete", "thread-id", "turn-id", "cwd", "client",
"input-messages", "last-assistant-message"}``). The program is started and never waited for:
its output is discarded, it cannot hold up the session, and codex does not kill it when it
exits. A program that cannot be started is one warning, after which notify is off for the
session.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from codex.errors import CodexError
from codex.hookspecs import hookimpl
from codex.plugin import API_VERSION

if TYPE_CHECKING:
    from codex.events import Event
    from codex.hook_types import HookContext

# The core's own plugins always speak the version of the plugin API they ship with.
CODEX_PLUGIN_API = API_VERSION


def turn_complete_payload(event: Event, context: HookContext) -> dict[str, Any]:
    """The peer's ``agent-turn-complete`` notification for the turn ``event`` completed."""
    return {
        "type": "agent-turn-complete",
        "thread-id": context.session_id,
        "turn-id": event.id,
        "cwd": str(context.cwd),
        # The peer names its face here ("codex_exec"); ours is the originator the rollouts record.
        "client": "codex_py",
        "input-messages": context.turn_input(),
        "last-assistant-message": getattr(event.msg, "last_agent_message", None),
    }


@hookimpl
def codex_event(event: Event, context: HookContext) -> None:
    """On ``task_complete``, start the ``notify`` program with the turn's JSON."""
    if event.msg.type != "task_complete":
        return
    argv = context.config.notify
    if not argv:
        return
    import subprocess  # only when there is something to run: not on every start

    payload = json.dumps(turn_complete_payload(event, context), ensure_ascii=False)
    try:
        # Its own session: a Ctrl-C meant for codex does not reach it, and it may outlive codex.
        subprocess.Popen(
            [*argv, payload],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=context.cwd,
            start_new_session=True,
        )
    except OSError as exc:
        raise CodexError(
            f"the notify program {argv[0]!r} could not be started ({exc.strerror or exc}); "
            "fix `notify` in config.toml"
        ) from exc
