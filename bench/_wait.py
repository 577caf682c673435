"""Polling helper shared by the latency benches (no sleeps longer than 0.5 ms, so the wait
itself does not blur the figures)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait(cond: Callable[[], object], timeout: float = 10.0, what: str = "the gate") -> None:
    """Return once ``cond()`` is true; exit the bench naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.0005)
