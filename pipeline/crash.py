"""Named points where the kill -9 tests stop an ingest on purpose.

`HEARD_CRASH_AT=name` (or `name:N`, the Nth time the point is passed) makes the process SIGKILL
itself there: a real kill, at a moment no outside timer can hit reliably (between two writes).
Unset, a crash point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_passed: dict[str, int] = {}


def crash_point(name: str) -> None:
    wanted = os.environ.get("HEARD_CRASH_AT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
