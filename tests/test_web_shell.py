"""The web shell: sign-in, CSRF, health, error handling, configuration safety."""

from __future__ import annotations

import pytest

from facilitator import create_app
from facilitator.config import ConfigError

from .conftest import PASSWORD, csrf_token, login


def test_health_needs_no_login_and_reports_the_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["database"] == "ok"  # the queue too, when present


def test_pages_need_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_page_has_labelled_fields(client):
    page = client.get("/login").text
    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page


def test_empty_login_says_what_is_missing(client):
    page = client.get("/login")
    response = client.post("/login", data={"csrf_token": csrf_token(page.text), "email": "", "password": ""})
    assert response.status_code == 422
    assert "Enter your email address." in response.text
    assert "Enter your password." in response.text


def test_malformed_email_is_explained(client):
    page = client.get("/login")
    response = client.post("/login", data={"csrf_token": csrf_token(page.text), "email": "not-an-email",
                                           "password": "x"})
    assert "Enter an email address like name@example.org." in response.text


def test_wrong_password_gives_one_clear_message(client, make_user):
    user = make_user("facilitator")
    response = login(client, user.email, "wrong-password")
    assert response.status_code == 422
    assert "That email and password do not match an active account." in response.text


def test_login_and_logout(client, make_user):
    user = make_user("director")
    response = login(client, user.email.upper())  # emails compare without case
    assert response.status_code == 302
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200 and user.display_name in home.text
    response = client.post("/logout", data={"csrf_token": csrf_token(home.text)})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_sign_in(client, make_user, session):
    user = make_user("facilitator")
    user.active = False
    session.flush()
    assert login(client, user.email).status_code == 422


def test_login_refuses_to_redirect_off_site(client, make_user):
    user = make_user("facilitator")
    page = client.get("/login?next=https://evil.example/")
    response = client.post("/login?next=https://evil.example/", data={
        "csrf_token": csrf_token(page.text), "email": user.email, "password": PASSWORD})
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_every_post_route_refuses_a_missing_csrf_token(app, client, make_user):
    login(client, make_user("director").email)
    post_rules = [r for r in app.url_map.iter_rules() if "POST" in (r.methods or set())]
    assert post_rules, "the app has POST routes"
    adapter = app.url_map.bind("localhost")
    for rule in post_rules:
        values = {}
        for arg, converter in rule._converters.items():
            options = getattr(converter, "items", None)  # any(...) converters accept only their options
            values[arg] = sorted(options)[0] if options else ("1" if "Integer" not in type(converter).__name__ else 1)
        url = adapter.build(rule.endpoint, values, method="POST")
        response = client.post(url, data={"anything": "x"})
        assert response.status_code == 400, f"{rule.rule} accepted a POST without a CSRF token"
        assert "expired or was not sent from this site" in response.text


def test_unknown_page_is_a_plain_404(client, make_user):
    login(client, make_user("facilitator").email)
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "There is no such page" in response.text


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("FACILITATOR_INSTANCE", str(tmp_path))
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app()


def test_database_url_defaults_to_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("FACILITATOR_INSTANCE", str(tmp_path))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/facilitator.sqlite"
    assert not (tmp_path / "facilitator.sqlite").exists()  # the factory creates nothing


def test_postgres_urls_use_psycopg(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal/facilitator")
    monkeypatch.setenv("FACILITATOR_INSTANCE", str(tmp_path))
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.internal/facilitator"


def test_the_document_cache_is_configured_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("FACILITATOR_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DOCUMENT_CACHE_DIR", str(tmp_path / "pdfs"))
    monkeypatch.setenv("DOCUMENT_PERSONAL_SECONDS", "3600")
    app = create_app()
    assert app.config["DOCUMENT_CACHE_DIR"] == str(tmp_path / "pdfs")
    assert app.config["DOCUMENT_PERSONAL_SECONDS"] == 3600
    monkeypatch.setenv("DOCUMENT_PERSONAL_SECONDS", "a day")
    with pytest.raises(ConfigError, match="DOCUMENT_PERSONAL_SECONDS must be a whole number greater than 0, not 'a day'"):
        create_app()
