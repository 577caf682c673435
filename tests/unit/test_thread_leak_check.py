"""Which threads the autouse leak check (tests/conftest.py) makes a test stop before it ends."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import _must_stop


@pytest.mark.parametrize(
    ("name", "daemon", "must_stop"),
    [
        ("gate-smelting-east", True, True),
        ("controller-snapshot-cache", True, True),
        ("housekeeping", True, True),
        ("reader-osdp-/dev/pts/3", False, True),
        ("turnstile-sim", True, True),
        ("some-worker", False, True),  # any non-daemon thread keeps the process alive
        ("some-worker", True, False),
        ("asyncio_0", False, False),  # an event loop's idle executor worker
    ],
)
def test_sitegate_and_non_daemon_threads_must_stop(name: str, daemon: bool, must_stop: bool) -> None:
    assert _must_stop(threading.Thread(name=name, daemon=daemon)) is must_stop
