"""Making Ctrl-C stop a blocking startup step at once.

Startup runs synchronously, and may run inside ``asyncio.run``, whose SIGINT handler only
schedules a cancellation of the main task: a blocking download or wait would carry on until it
finished. While one of our bounded blocking steps runs, Ctrl-C raises ``KeyboardInterrupt``
right where it is, so the step can close its connection and say how to resume.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def interruptible() -> Iterator[None]:
    """Within this block Ctrl-C raises ``KeyboardInterrupt`` (main thread only; else a no-op)::

        with interruptible():
            download()  # Ctrl-C -> KeyboardInterrupt here
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main interpreter (embedded); leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
