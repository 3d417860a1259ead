"""The JSON schemas of the built-in tools' arguments: what the model reads and what every call
is checked against (``codex.tools.validation``), like any plugin's tool.

Written out as data, as the declaration itself: offering the built-in tools needs neither
pydantic nor a cache (a schema read back from a cache could have been written by a sandboxed
command, while this file is as trusted as the code). Checks JSON Schema cannot state (at most
one plan step in progress) are the handlers' own.
"""

from __future__ import annotations

from typing import Any

SHELL: dict[str, Any] = {
    "description": "Arguments of the shell tool.",
    "properties": {
        "command": {
            "description": "The command and its arguments, as an argv array.",
            "items": {"type": "string"},
            "minItems": 1,
            "type": "array",
        },
        "workdir": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
            "description": "Working directory (default: the session's cwd).",
        },
        "timeout_ms": {
            "anyOf": [{"minimum": 1, "type": "integer"}, {"type": "null"}],
            "default": None,
            "description": "Kill the command after this many milliseconds.",
        },
        "timeout": {
            "anyOf": [{"minimum": 1, "type": "integer"}, {"type": "null"}],
            "default": None,
            "description": "Deprecated: timeout in seconds.",
        },
    },
    "required": ["command"],
    "type": "object",
    "additionalProperties": False,
}

# Under on-request: the same, plus the two escalation fields.
SHELL_WITH_ESCALATION: dict[str, Any] = {
    **SHELL,
    "description": "Arguments of the shell tool under on-request, where the model may ask to leave the sandbox.",
    "properties": {
        **SHELL["properties"],
        "with_escalated_permissions": {
            "anyOf": [{"type": "boolean"}, {"type": "null"}],
            "default": None,
            "description": "Ask the user to run this command without the sandbox.",
        },
        "justification": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
            "description": "One sentence telling the user why escalated permissions are needed.",
        },
    },
}

APPLY_PATCH: dict[str, Any] = {
    "description": "Arguments of the apply_patch function tool.",
    "properties": {
        "input": {
            "description": "The whole patch, from '*** Begin Patch' to '*** End Patch'.",
            "type": "string",
        },
    },
    "required": ["input"],
    "type": "object",
    "additionalProperties": False,
}

UPDATE_PLAN: dict[str, Any] = {
    "$defs": {
        "PlanStep": {
            "description": "One step of the plan.",
            "properties": {
                "step": {"minLength": 1, "type": "string"},
                "status": {"enum": ["pending", "in_progress", "completed"], "type": "string"},
            },
            "required": ["step", "status"],
            "type": "object",
            "additionalProperties": False,
        },
    },
    "description": "Arguments of update_plan.",
    "properties": {
        "explanation": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
            "description": "Why the plan changed (optional).",
        },
        "plan": {
            "description": "The steps, in order; at most one in_progress.",
            "items": {"$ref": "#/$defs/PlanStep"},
            "type": "array",
        },
    },
    "required": ["plan"],
    "type": "object",
    "additionalProperties": False,
}
