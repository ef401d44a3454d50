"""Helpers for the tests that run the app the way a deployment does: a temporary instance folder with
the demo program, gunicorn with gunicorn.conf.py on a free port, and browser-like clients (their own
cookies, CSRF tokens read from the page's forms)."""

from __future__ import annotations

import copy
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "demo-password-2026"


# These tests run the app on SQLite as a deployment does (or read files): the PostgreSQL run of the
# suite would repeat them unchanged.
SQLITE_RUN_ONLY = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")),
                                     reason="database-independent: run once, in the SQLite run")


def free_port() -> int:
    """A TCP port nobody listens on (on 127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def instance_env(folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a deployment on SQLite in `folder` (no test database, no frozen clock)."""
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "DATABASE_URL", "FACILITATOR_TEST_NOW")}
    env.update(FACILITATOR_INSTANCE=str(folder), SECRET_KEY="serving-test-" + "k" * 40,
               DOCUMENT_CACHE_DIR=str(folder / "document-cache"), **extra)
    return env


def demo_instance(folder: Path, env: dict[str, str]) -> None:
    """`facilitator init` and `facilitator demo` into the folder, as the README says."""
    for command in (["init"], ["demo"]):
        subprocess.run([str(BIN / "facilitator"), *command], env=env, check=True, capture_output=True, timeout=120)


@contextmanager
def gunicorn(env: dict[str, str], log: Path, *args: str, cwd: Path = ROOT) -> Iterator[str]:
    """gunicorn -c gunicorn.conf.py on a free port until the block ends; yields the base URL."""
    port = free_port()
    with open(log, "wb") as out:
        server = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}", *args],
                                  cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(base + "/health", timeout=15)
                    break
                except OSError:  # refused while booting, or a slow first answer
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("gunicorn did not start:\n" + log.read_text()[-3000:]) from None
                    time.sleep(0.2)
            yield base
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


class Forms(HTMLParser):
    """Every form of a page: its action and the values a browser would send as they stand."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        """Collect form actions and their fields' current values."""
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": []})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.forms[-1]["fields"].append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.forms[-1]["fields"].append((self._select, a.get("value") or ""))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.forms[-1]["fields"].append((self._textarea, ""))

    def handle_data(self, data: str) -> None:
        """A textarea's text is its value."""
        if self._textarea and self.forms:
            name, value = self.forms[-1]["fields"][-1]
            self.forms[-1]["fields"][-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        """Leave a select or textarea."""
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form(page: str, action_suffix: str) -> tuple[str, list] | None:
    """The form whose action ends with `action_suffix`: (action, fields), or None."""
    parser = Forms()
    parser.feed(page)
    for found in parser.forms:
        if found["action"].endswith(action_suffix):
            return found["action"], found["fields"]
    return None


class Browser:
    """One person's browser: its own cookies; follows redirects; never raises on an HTTP status."""

    def __init__(self, base: str, like: Browser | None = None) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        for cookie in like.cookies if like is not None else ():
            self.cookies.set_cookie(copy.copy(cookie))  # another tab of the same signed-in person
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def request(self, path: str, fields: list | None = None, timeout: float = 60) -> tuple[int, str]:
        """GET (or POST the fields): the final status and body."""
        data = urllib.parse.urlencode(fields).encode() if fields is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=timeout) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> None:
        """Sign in through the form, as a person would."""
        _, page = self.request("/login")
        parser = Forms()
        parser.feed(page)
        fields = next(f["fields"] for f in parser.forms if "password" in dict(f["fields"]))
        values = dict(fields) | {"email": email, "password": password}
        status, page = self.request("/login", list(values.items()))
        if status != 200 or 'name="password"' in page:
            raise AssertionError(f"{email} could not sign in ({status})")


def links(page: str, pattern: str) -> list[str]:
    """The distinct hrefs of a page matching a regular expression, in page order."""
    return list(dict.fromkeys(re.findall(f'href="({pattern})"', page)))

