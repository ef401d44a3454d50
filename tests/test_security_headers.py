"""Security headers: the policy, no framing, nosniff, the referrer rule, HSTS only behind HTTPS, and no
caching of what may hold participant data. Every route's answer is checked in test_access_matrix.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from facilitator import create_app
from facilitator.web.headers import CONTENT_SECURITY_POLICY

from .conftest import login


def _policy(response) -> dict[str, str]:
    """The CSP as directive -> sources."""
    return {part.split()[0]: " ".join(part.split()[1:])
            for part in response.headers["Content-Security-Policy"].split(";") if part.strip()}


def test_the_policy_allows_scripts_and_styles_only_from_the_app(client):
    policy = _policy(client.get("/login"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert policy["default-src"] == "'self'" and policy["img-src"] == "'self' data:"
    assert policy["base-uri"] == "'self'" and policy["form-action"] == "'self'"


@pytest.mark.parametrize("path", ["/login", "/health", "/no-such-page", "/participants/"])
def test_pages_errors_and_redirects_carry_the_headers(client, path):
    response = client.get(path)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP in tests: HSTS would be a lie


def test_a_signed_in_page_with_participant_data_is_not_cached(client, make_user, make_participant):
    director = make_user("director")
    person = make_participant(director.program)
    login(client, director.email)
    response = client.get(f"/participants/{person.id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_the_apps_own_stylesheet_may_be_cached(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_pages_link_static_files_by_version_and_browsers_keep_those_for_a_year(client):
    page = client.get("/login").text
    link = re.search(r'href="(/static/app\.css\?v=[0-9a-f]{12})"', page)
    assert link, "the stylesheet is linked with its version"
    response = client.get(link.group(1))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    response.close()
    # A version that is not the file's (a page from before an upgrade) is revalidated, not kept.
    stale = client.get("/static/app.css?v=000000000000")
    assert stale.status_code == 200 and "immutable" not in stale.headers["Cache-Control"]
    stale.close()


def test_hsts_is_sent_when_cookies_are_secure(app):
    secure = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "TESTING")},
                         "SESSION_COOKIE_SECURE": True})
    response = secure.test_client().get("/health", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    secure_db = secure.extensions["sqlalchemy"]
    with secure.app_context():
        secure_db.engine.dispose()


# Rendered by WeasyPrint into PDFs, never served to a browser: the CSP does not apply to them.
PRINTED = ("documents/", "reports/report_print.html")
SERVED_ANYWAY = ("documents/job.html",)  # the job's progress page is a screen page
FORBIDDEN = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+\s*=", re.IGNORECASE)


def test_screen_templates_have_no_inline_script_style_or_event_attribute():
    """The CSP refuses them in a browser; scripts and styles belong in facilitator/static."""
    root = Path(__file__).resolve().parents[1] / "templates"
    found = []
    for path in sorted(root.rglob("*.html")):
        name = path.relative_to(root).as_posix()
        if name.startswith(PRINTED) and name not in SERVED_ANYWAY:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if FORBIDDEN.search(line):
                found.append(f"templates/{name}:{number}: {line.strip()[:80]}")
    assert not found, "inline script, <style>, style= or on...= in a screen template:\n" + "\n".join(found)
