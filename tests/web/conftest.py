"""Browser fixtures: a real uvicorn server on the demo data, and headless Chromium.

Every browser test runs once per backend (SQLite file, PostgreSQL database).
The server is a real uvicorn in a background thread on a free 127.0.0.1 port,
serving a freshly migrated and demo-seeded database; Chromium is Debian's
(`/usr/bin/chromium`, never `playwright install`). Under CI=true a missing
Chromium or PostgreSQL fails instead of skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, text

from passtrace import demo
from passtrace.app import create_app
from passtrace.core import clock, migrate
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from tests.conftest import PG_ADMIN_URL, drop_stale_databases, skip_or_fail
from tests.conftest import test_settings as fast_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
PG_DB_PREFIX = "passtrace_browser"
SHOTS = Path("/tmp/passtrace-shots")
TIMEOUT_MS = 15_000


@dataclass
class LiveServer:
    """A running PassTrace on a demo-seeded database."""

    url: str
    backend: str
    rt: Runtime
    # The local day the demo was seeded on: its "three days ago" is counted from this day,
    # which is not today any more once a run has crossed midnight in China (16:00 UTC).
    seeded_on: date

    def api_token(self, username: str, password: str = demo.DEMO_PASSWORD) -> str:
        """Log in through the API and return a bearer token."""
        resp = httpx.post(f"{self.url}/api/v1/auth/token",
                          json={"username": username, "password": password}, timeout=10)
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])

    def api_passes(self, username: str) -> list[dict[str, Any]]:
        """Return a user's passes as the API lists them (newest first)."""
        token = self.api_token(username)
        resp = httpx.get(f"{self.url}/api/v1/passes/mine", params={"limit": 200},
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert resp.status_code == 200, resp.text
        return list(resp.json()["items"])


# --- databases ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str]:
    """Create a fresh database for this run (named after our pid, so runs never collide)."""
    name = f"{PG_DB_PREFIX}_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            drop_stale_databases(conn, PG_DB_PREFIX)
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
        admin.dispose()
        skip_or_fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _database_url(backend: str, request: pytest.FixtureRequest) -> tuple[str, Callable[[], None]]:
    if backend == "sqlite":
        tmp = tempfile.mkdtemp(prefix="passtrace-browser-")
        return f"sqlite:///{Path(tmp) / 'browser.db'}", lambda: shutil.rmtree(tmp, True)
    return request.getfixturevalue("_postgres_url"), lambda: None


# --- the server -----------------------------------------------------------------------------

def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def live_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """Serve PassTrace on a fresh, migrated, demo-seeded database over real HTTP."""
    backend = request.param
    url, cleanup = _database_url(backend, request)
    rt = Runtime.build(fast_settings(url))
    migrate.upgrade(rt.engine)
    seeded_on = clock.local_today()
    for session in session_scope(rt.sessions):  # commits the seed at the boundary
        demo.seed(session=session, rt=rt)

    sock = _free_socket()
    host, port = sock.getsockname()
    config = uvicorn.Config(create_app(runtime=rt), log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"uvicorn-{backend}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"the {backend} test server did not start")
        time.sleep(0.02)
    # The first page compiles templates and warms the app: paid here, not inside the
    # first test's 15 s navigation timeout (on a loaded machine the first test of a
    # worker lost its /login to it).
    try:
        httpx.get(f"http://{host}:{port}/login", timeout=120)
        yield LiveServer(url=f"http://{host}:{port}", backend=backend, rt=rt,
                         seeded_on=seeded_on)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        rt.engine.dispose()
        cleanup()
        assert not thread.is_alive(), "the test server did not stop"


# --- the browser ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, launched once for the whole run."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001 - a browser that cannot start cannot test
        pw.stop()
        skip_or_fail(f"Chromium at {CHROMIUM} did not start: {exc}")
    yield chromium
    chromium.close()
    pw.stop()


@pytest.fixture
def new_context(browser: Any, live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """Open isolated browser contexts (Chinese, China time by default); closed after."""
    contexts: list[Any] = []

    def factory(**options: Any) -> Any:
        settings = {"base_url": live_server.url, "locale": "zh-CN",
                    "timezone_id": "Asia/Shanghai", **options}
        context = browser.new_context(**settings)
        context.set_default_timeout(TIMEOUT_MS)
        # Belt and braces: nothing in these tests may leave the machine.
        context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*"),
                      lambda route: route.abort())
        contexts.append(context)
        return context

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., Any]) -> Any:
    """A page in a fresh context."""
    return new_context().new_page()


def login(page: Any, username: str, password: str = demo.DEMO_PASSWORD) -> Any:
    """Log in through the login form and return the response the form led to."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation() as nav:
        page.click("form[action='/login'] button[type=submit]")
    return nav.value


def follow(page: Any, selector: str) -> Any:
    """Click a link and wait for the page it leads to: `click` returns once the navigation
    has started, and reading counts or the URL straight after can still see the old page."""
    with page.expect_navigation() as nav:
        page.click(selector)
    return nav.value


@pytest.fixture
def shot(live_server: LiveServer) -> Callable[..., Path]:
    """Save a screenshot under /tmp/passtrace-shots for a human to look at."""

    def save(page: Any, name: str, **options: Any) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}-{live_server.backend}.png"
        page.screenshot(path=str(path), **options)
        return path

    return save


def demo_approved_pass(server: LiveServer) -> dict[str, Any]:
    """Return resident's approved demo pass (commute, 贵A12345) as the API lists it."""
    found = [p for p in server.api_passes("resident") if p["status"] == "approved"
             and p["purpose"] == "commute" and p["plate"] == "贵A12345"]
    assert len(found) == 1, "the demo data has one approved commute pass for resident"
    return found[0]


def qr_image_state(page: Any, selector: str) -> dict[str, Any]:
    """Describe a QR <img> after the page's load event: its URL and whether it loaded."""
    return page.eval_on_selector(selector, """img => ({
        src: img.currentSrc || img.src, loaded: img.complete && img.naturalWidth > 0,
        width: img.getBoundingClientRect().width})""")


def read_qr(page: Any, selector: str) -> list[str]:
    """Screenshot a QR element as the browser drew it and decode it with zxing-cpp."""
    from passtrace.codec.qr import decode_qr_image

    return decode_qr_image(page.locator(selector).screenshot())
