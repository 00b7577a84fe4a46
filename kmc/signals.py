"""SIGINT and SIGTERM as requests to stop at the next consistent point.

Batch schedulers send SIGTERM before they kill a job, and users press Ctrl-C; a run or an
ensemble must then stop where its state is consistent, keep what it has computed and exit
with 130 / 143. Inside :func:`stop_signals` the two signals only append "interrupted" or
"terminated" to a list, which the loop checks between steps.
"""
from __future__ import annotations

import contextlib
import signal
import threading

#: What a signal asks for (the stop reason it gives).
REASONS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


@contextlib.contextmanager
def stop_signals():
    """Within the block SIGINT and SIGTERM append their reason to the list yielded instead of
    stopping the process (in the main thread; elsewhere signals cannot be caught and the list
    stays empty); the previous handlers come back on exit."""
    received = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    old = {s: signal.signal(s, lambda num, _: received.append(REASONS[num])) for s in REASONS}
    try:
        yield received
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
