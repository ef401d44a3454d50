"""Several app servers share one queue: with a real redis-server (started by the test on a free port
of 127.0.0.1, stopped after), two apps with different instance folders and document caches and one
`facilitator worker` process share the Redis queue; a job asked of app A renders on the worker and
downloads from app B. REDIS_URL also becomes the sign-in limits' storage."""

from __future__ import annotations

import pytest

from facilitator import create_app
from facilitator.config import Config
from facilitator.documents import jobs
from facilitator.extensions import db
from facilitator.queue import queue_for, queue_ping

from .conftest import login
from .documents.conftest import reader, text
from .test_queue_support import redis_server, start_worker, stop, until, worker_log

pytestmark = pytest.mark.undated


def _server(app, tmp_path, monkeypatch, name: str, redis_url: str):
    """Another app on the same database with its own instance folder and document cache; its test client.

    Made before the test's rows: building an app ends the current database session (its set-up runs
    in an app context), and the new app's requests must not end it either (the test rolls it back)."""
    monkeypatch.setenv("FACILITATOR_INSTANCE", str(tmp_path / name))
    config = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "PASSWORD_HASH_COST",
                                               "SERVER_NAME", "TESTING")}
    other = create_app({**config, "REDIS_URL": redis_url, "DOCUMENT_CACHE_DIR": str(tmp_path / name / "documents")})
    assert other.instance_path == str(tmp_path / name)
    other.teardown_appcontext_funcs[:] = [f for f in other.teardown_appcontext_funcs if getattr(f, "__self__", None)
                                          is not db]
    return other, other.test_client()


def test_a_job_asked_of_one_server_downloads_from_another(app, session, tmp_path, monkeypatch, make_program,
                                                          make_group, make_participant, make_user):
    with redis_server(tmp_path / "redis") as redis_url:
        app_a, client_a = _server(app, tmp_path, monkeypatch, "a", redis_url)
        app_b, client_b = _server(app, tmp_path, monkeypatch, "b", redis_url)
        program = make_program()
        group = make_group(program)
        people = [make_participant(program, group, name=f"Shared {n}") for n in range(11)]  # 22 pages
        staff = make_user("facilitator", program)
        address = "/documents/worksheet/rp3.pdf?" + "&".join(f"participant={p.id}" for p in people)
        assert queue_ping(app_a) == {"ok": True, "kind": "redis", "pending": 0}
        worker = start_worker(tmp_path / "worker", redis_url)
        try:
            login(client_a, staff.email)
            asked = client_a.get(address)
            assert asked.status_code == 303
            job_url = asked.headers["Location"]
            login(client_b, staff.email)

            def finished():
                status = client_b.get(job_url + ".json").json
                return status if status["status"] in ("done", "failed") else None

            status = until(finished, 90, "the job did not finish\n" + worker_log(tmp_path / "worker"), poll=0.2)
            assert status["status"] == "done"
        finally:
            stop(worker)
        pdf = client_b.get(job_url + ".pdf")
        assert pdf.status_code == 200 and len(reader(pdf.data).pages) == 22
        assert "Shared 10" in text(pdf.data, 21)
        # Asking app B for the same document again serves the finished file, with no new job.
        again = client_b.get(address)
        assert again.status_code == 200 and again.data == pdf.data
        assert not list((tmp_path / "a").rglob("*.pdf")), "nothing of the job is kept in app A's folders"
        assert jobs.read_state(queue_for(app_b), job_url.rsplit("/", 1)[-1])["attempt"] == 1
    assert queue_ping(app_a)["ok"] is False, "the health check sees the queue go away"


def test_redis_url_is_the_queue_and_the_sign_in_limits_storage(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "redis://cache.clinic.internal:6379/2")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("QUEUE_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    values = Config.from_environment(str(tmp_path), debug=False)
    assert values["RATELIMIT_STORAGE_URI"] == "redis://cache.clinic.internal:6379/2"
    assert values["REDIS_URL"] == "redis://cache.clinic.internal:6379/2"
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://limits:6379/0")  # a setting of its own wins
    assert Config.from_environment(str(tmp_path), debug=False)["RATELIMIT_STORAGE_URI"] == "redis://limits:6379/0"
