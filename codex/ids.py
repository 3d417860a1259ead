"""Random identifiers for sessions and tool calls.

The ``uuid`` module imports ``platform`` (~3 ms) to choose how to read a MAC address we never
use; a random (version 4) UUID is sixteen random bytes with two fields set.
"""

from __future__ import annotations

import os


def random_uuid() -> str:
    """A random RFC 4122 version-4 UUID in its usual text form (what ``str(uuid.uuid4())`` gives)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def new_call_id() -> str:
    """An id for a tool call the model sent without one (``call_`` and 24 hex digits)."""
    return f"call_{os.urandom(12).hex()}"
