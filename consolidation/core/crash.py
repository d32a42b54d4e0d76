"""Crash points for the fault tests, in one place: CONSOLIDATION_CRASH_AT=<point>[:<n>] SIGKILLs here.

A phase names the points where a kill is worth proving harmless ("backup.committed",
"merge.after_batch", "storage.copy", ...); with the variable unset, a point costs one lookup.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

CRASH_ENV = "CONSOLIDATION_CRASH_AT"

_reached: Counter[str] = Counter()
_lock = threading.Lock()


def point(name: str, reached: int | None = None) -> None:
    """SIGKILL this process the n-th time NAME is reached (n from CONSOLIDATION_CRASH_AT, 1 by
    default). REACHED is a count the caller keeps itself (merge's workers count batches across
    threads): then the kill comes at n or, when workers racing each other skipped past it, the
    first point after."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    target, _, count = wanted.partition(":")
    if target != name:
        return
    with _lock:
        if reached is None:
            _reached[name] += 1
            reached = _reached[name]
    if reached >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
