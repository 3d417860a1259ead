"""This process's children, read from ``/proc`` (Linux only): what a test started and left."""

from __future__ import annotations

import os


def child_pids() -> set[int]:
    """Pids of this process's children; any of its threads may have started one."""
    found: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as listing:
                found.update(int(pid) for pid in listing.read().split())
        except OSError:
            continue  # the thread ended meanwhile
    return found


def command_line(pid: int) -> bytes:
    """The NUL-separated command line of ``pid``; empty once it has ended."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read()
    except OSError:
        return b""
