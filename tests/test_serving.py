"""Serving as a deployment does: readiness (/health names what failed), request ids, JSON logs without
participant data, the reverse proxy's headers, and the audit of a read written before the page leaves
(or no page at all)."""

from __future__ import annotations

import json
import subprocess

import pytest
from flask import request
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from facilitator import create_app
from facilitator.audit import services as audit_services
from facilitator.audit.models import AuditEvent
from facilitator.extensions import db
from facilitator.web.views import register_health_check

from .conftest import login
from .serving import BIN, SQLITE_RUN_ONLY, Browser, free_port, gunicorn, instance_env


def test_health_answers_ok_without_a_login(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["database"] == "ok"
    assert all(value == "ok" for name, value in response.json.items() if name != "queue_pending")


def test_health_is_503_and_names_the_storage_that_is_down(app, client, monkeypatch):
    # monkeypatch puts back the queue the run had (the document tests' worker listens on it): setting
    # None here sent later tests' jobs to a queue no worker reads, and they waited five minutes.
    monkeypatch.setitem(app.config, "QUEUE_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    response = client.get("/health")
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.json["status"] == "error" and response.json["queue"] == "unreachable"
    assert response.json["database"] == "ok"


def test_a_registered_check_that_fails_makes_health_503(app, client):
    def broken() -> bool:
        raise OSError("disk gone")

    register_health_check(app, "documents", broken)
    try:
        response = client.get("/health")
    finally:
        del app.extensions["facilitator_health_checks"]["documents"]
    assert response.status_code == 503 and response.json["documents"] == "unreachable"
    assert response.json["database"] == "ok" and "disk gone" not in response.text


@pytest.mark.parametrize(("offered", "kept"), [("lb-7f3a9c2e-0001", True), ("abc", False),
                                                ("x" * 200, False), ("<script>alert(1)</script>", False),
                                                ("id with spaces", False)])
def test_the_request_id_is_the_proxys_if_sane_and_is_echoed(client, offered, kept):
    echoed = client.get("/health", headers={"X-Request-ID": offered}).headers["X-Request-ID"]
    if kept:
        assert echoed == offered
    else:
        assert echoed != offered and len(echoed) == 32 and echoed.isalnum()


def test_each_request_gets_its_own_id(client):
    assert client.get("/health").headers["X-Request-ID"] != client.get("/health").headers["X-Request-ID"]


def test_reading_a_record_is_audited_once_the_page_is_built(client, make_program, make_participant, make_user):
    program = make_program()
    person = make_participant(program, name="Quinn Private")
    staff = make_user("facilitator", program)
    login(client, staff.email)
    assert client.get(f"/participants/{person.id}").status_code == 200
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.participant_id == person.id)).all()
    assert actions == ["participant.view"]


def test_no_page_is_sent_when_its_audit_cannot_be_written(client, monkeypatch, make_program, make_participant,
                                                        make_user):
    program = make_program()
    person = make_participant(program, name="Quinn Private")
    login(client, make_user("facilitator", program).email)

    def locked(*args, **kwargs):
        raise OperationalError("INSERT INTO audit_event", {}, Exception("database is locked"))

    monkeypatch.setattr(audit_services, "_insert_rows", locked)
    monkeypatch.setattr(audit_services, "RETRY_PAUSE_SECONDS", 0)
    response = client.get(f"/participants/{person.id}")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "Quinn Private" not in response.text
    assert "could not be saved" in response.text
    api = client.get(f"/api/participants/{person.id}/progress")
    assert api.status_code == 503 and api.json["status"] == 503 and "Quinn" not in api.text


def test_behind_the_proxy_the_client_address_and_https_come_from_forwarded_headers(app):
    proxied = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "TESTING")},
                          "PROXY_FIX": True})
    plain = create_app({k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "TESTING")})
    seen = []

    def whoami() -> str:
        seen.append((request.remote_addr, request.scheme))
        return ""

    for each in (proxied, plain):
        each.add_url_rule("/whoami", "whoami", whoami)
        each.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
        with each.app_context():
            each.extensions["sqlalchemy"].engine.dispose()
    assert seen == [("203.0.113.9", "https"), ("127.0.0.1", "http")]


@pytest.mark.undated
@SQLITE_RUN_ONLY
def test_json_logs_carry_the_request_id_and_no_participant_data(tmp_path):
    folder = tmp_path / "instance"
    env = instance_env(folder, LOG_FORMAT="json", WEB_CONCURRENCY="1", GUNICORN_THREADS="2")
    subprocess.run([str(BIN / "facilitator"), "init"], env=env, check=True, capture_output=True, timeout=120)
    log = tmp_path / "gunicorn.log"
    with gunicorn(env, log) as base:
        me = Browser(base)
        me.request("/login?next=/participants/%3Fq%3DQuinn+Private")
        me.opener.addheaders = [("X-Request-ID", "proxy-req-000123")]
        me.request("/login")
        fields = [("email", "quinn.private@example.org"), ("password", "Quinn Private's password")]
        assert me.request("/login", fields)[0] == 400  # no CSRF token: refused, and still no value logged
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [e for e in entries if e["logger"] == "facilitator.access"]
    assert {"request_id", "method", "path", "status", "duration_ms", "time", "level"} <= set(access[-1])
    assert any(e["request_id"] == "proxy-req-000123" and e["method"] == "POST" for e in access)
    assert all(len(e["request_id"]) >= 8 for e in access)
    text = log.read_text()
    assert "Quinn" not in text and "quinn" not in text and "next=" not in text
