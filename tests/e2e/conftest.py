"""Browser tests: a real ``sitegate serve`` on loopback, driven by Debian's chromium.

- ``site``: a fresh demo plant (the repository's config.toml with its database and secret
  key in tmp_path), migrated and seeded with staff (``STAFF``), served by a
  ``sitegate serve --port 0`` subprocess (simulated gates included); ``site.url`` is its
  base URL. The server is stopped with SIGTERM afterwards (killed if it does not stop).
- ``browser``: one chromium for the test run (Playwright cannot download browsers here).
- ``desk`` / ``phone``: a new browser context at desktop size (1280x900) or phone size
  (390x844, touch); closed afterwards. ``sign_in(page, site, user)`` signs a user in.
- ``shot(page, name)``: saves a full-page screenshot to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class User:
    name: str
    password: str
    role: str
    department: str | None = None
    card: str | None = None
    escort_zones: tuple[str, ...] = ()
    phone: str | None = None
    dispatch_room: bool = False


# the escort is dispatch-room staff so night visits (R14) do not make the test depend on the
# clock; cards are ten hex digits, as the em4100 readers of the smelting gates report them
STAFF: dict[str, User] = {
    "officer": User("Wang Fang", "officer-pass-1", "safety_officer", "steelmaking", "0E00000001"),
    "desk": User("Liu Yang", "desk-pass-01", "reception", "admin-office"),
    "escort": User(
        "Zhao Lei",
        "escort-pass-1",
        "escort",
        "steelmaking",
        "0E00000002",
        ("smelting", "assembly"),
        "13912345678",
        True,
    ),
}


@dataclass
class Site:
    url: str
    config_path: Path
    database: str
    process: subprocess.Popen[str]
    ids: dict[str, int]


def write_config(tmp: Path) -> Path:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace(
        'database = "sqlite:///var/sitegate.db"',
        f'database = "sqlite:///{tmp / "sitegate.db"}"\nsecret_key_file = "{tmp / "secret_key"}"',
    )
    assert str(tmp) in text, "config.toml's [site] database line changed; update tests/e2e/conftest.py"
    path = tmp / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def seed_staff(database: str) -> dict[str, int]:
    """Create the database (migrations, as serve does) and the staff; returns their ids."""
    from zones.db import make_engine, session_factory, upgrade
    from zones.services import create_user

    engine = make_engine(database)
    try:
        upgrade(engine)
        ids = {}
        with session_factory(engine)() as s:
            for key, u in STAFF.items():
                emp, _token = create_user(
                    s,
                    u.name,
                    u.role,
                    u.department,
                    list(u.escort_zones),
                    u.card,
                    u.password,
                    phone=u.phone,
                    dispatch_room=u.dispatch_room,
                )
                ids[key] = emp.id
        return ids
    finally:
        engine.dispose()


def _pump(stream: Any, lines: queue.Queue[str], log: Path) -> None:
    with log.open("a", encoding="utf-8") as fh:
        for line in stream:
            fh.write(line)
            fh.flush()
            lines.put(line)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    config = write_config(tmp_path)
    database = f"sqlite:///{tmp_path / 'sitegate.db'}"
    ids = seed_staff(database)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sitegate.cli", "serve", "--config", str(config), "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    log = tmp_path / "serve.log"
    pump = threading.Thread(target=_pump, args=(proc.stdout, lines, log), daemon=True)
    pump.start()
    try:
        url = _wait_for_url(proc, lines, log)
        yield Site(url=url, config_path=config, database=database, process=proc, ids=ids)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        pump.join(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _wait_for_url(proc: subprocess.Popen[str], lines: queue.Queue[str], log: Path) -> str:
    import time

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if proc.poll() is not None:
                pytest.fail(f"sitegate serve exited with {proc.returncode}:\n{log.read_text(encoding='utf-8')}")
            continue
        m = re.search(r"serving on (http://127\.0\.0\.1:\d+)/", line)
        if m:
            return m.group(1)
    pytest.fail(f"sitegate serve did not start within {START_TIMEOUT_S} s:\n{log.read_text(encoding='utf-8')}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (./run test does)")
    from playwright.sync_api import expect, sync_playwright

    # a shared 2-core CI machine can be slow: wait longer for conditions (never sleep)
    expect.set_options(timeout=15_000)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def desk(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


def sign_in(page: Any, site: Site, user: str, screenshot: str | None = None) -> None:
    """Sign ``user`` (a STAFF key) in through the login form (screenshot it if named)."""
    u = STAFF[user]
    page.goto(site.url + "/login")
    page.fill("input[name=username]", u.name)
    page.fill("input[name=password]", u.password)
    if screenshot:
        shot(page, screenshot)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"sign-in of {user} failed: {page.content()[:500]}"


def shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
