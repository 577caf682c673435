"""``sitegate serve`` as a plant network sees it (issue 10, finding 8): a production WSGI server
(waitress) without a ``Server`` banner, the security headers, files under var/ private to
the user (0600), and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import queue
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.e2e.conftest import _pump, _wait_for_url, write_config


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_serve_runs_waitress_with_headers_and_private_files(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    old_umask = os.umask(0o022)  # what a login shell typically has: serve must not rely on it
    proc = subprocess.Popen(
        [sys.executable, "-m", "sitegate.cli", "serve", "--port", "0", "--config", str(config)],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    os.umask(old_umask)
    lines: queue.Queue[str] = queue.Queue()
    log = tmp_path / "serve.log"
    pump = threading.Thread(target=_pump, args=(proc.stdout, lines, log), daemon=True)
    pump.start()
    try:
        url = _wait_for_url(proc, lines, log)
        with urllib.request.urlopen(f"{url}/login", timeout=10) as resp:
            assert resp.status == 200
            headers = resp.headers
        assert "Server" not in headers and "Via" not in headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        # the database, the secret key, the gates' journal and snapshot cache
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob("snapshot-*.cache")) and time.monotonic() < deadline:
            time.sleep(0.2)
        created = [
            tmp_path / "sitegate.db",
            tmp_path / "secret_key",
            *tmp_path.glob("journal-*.db"),
            *tmp_path.glob("snapshot-*.cache"),
        ]
        assert len(created) == 4, created
        assert [p.name for p in created if not _private(p)] == []
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        pump.join(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert "Traceback" not in log.read_text(encoding="utf-8")
