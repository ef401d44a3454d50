"""Browser tests: a real server on 127.0.0.1 (started and stopped here) driven by headless Chromium.

The server uses a database of its own (committed data, as a real deployment would), not the
rolled-back session of the other tests: an SQLite file, or a second PostgreSQL database when the
suite runs on PostgreSQL.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from facilitator import create_app
from facilitator.extensions import db

from ..conftest import server_database_url

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _live_database_url(root: Path) -> str:
    """A database of its own for the live server: a second database on the test PostgreSQL server
    when the suite runs on PostgreSQL, else an SQLite file."""
    return server_database_url("live") or f"sqlite:///{root}/live.sqlite"


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """An app on a fresh, migrated database of its own with the shipped curricula."""
    from flask_migrate import upgrade

    from facilitator.setup_cli import load_shipped_curricula

    root = tmp_path_factory.mktemp("live")
    app = create_app({"SQLALCHEMY_DATABASE_URI": _live_database_url(root), "SECRET_KEY": "browser-tests",
                      "PASSWORD_HASH_COST": "fast", "DOCUMENT_CACHE_DIR": str(root / "document-cache"),
                      "TESTING": False, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        upgrade()
        load_shipped_curricula()
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[str]:
    """The app served on a free port of 127.0.0.1 in a thread; stopped after the tests."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, through Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _close_leftover_tabs(request):
    """Close every browser context a test opened and left open: an open tab keeps polling the live
    server (the idle sign-out check) while the worker's next tests run."""
    yield
    if "browser" in request.fixturenames:
        for context in list(request.getfixturevalue("browser").contexts):
            context.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) and page per test."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    tab = context.new_page()
    yield tab
    context.close()


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core in the page; return the violations at the given impact levels."""
    # Evaluated through the DevTools protocol: the app's CSP (script-src 'self') refuses an injected
    # <script> element, as it should, but not the test's own evaluation.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;void 0")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in impacts]


def sign_in(page, base: str, email: str, password: str) -> None:
    """Sign in through the form with the keyboard, as a person would."""
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
