"""Home page and health check."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from functools import partial

from flask import Blueprint, Flask, current_app, g, jsonify, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from ..extensions import db, limiter

bp = Blueprint("web", __name__)


@bp.route("/health")
def health():
    """Readiness for load balancers and monitors: the database and, when configured, the shared
    storage of the queue and of the sign-in limits; 200 when all answer, 503 naming what failed.
    No data, no login."""
    results: dict[str, object] = {name: _check(name, check) for name, check in health_checks(current_app).items()}
    ok = all(result == "ok" for result in results.values())
    if "queue_ping" in g:  # queue depth, for monitoring (docs/deploy.md)
        results["queue_pending"] = g.queue_ping.get("pending")
    return jsonify(status="ok" if ok else "error", **results), 200 if ok else 503


def _queue_module():
    """The task queue package (facilitator.queue) when this version has one."""
    if importlib.util.find_spec("facilitator.queue") is None:
        return None
    return importlib.import_module("facilitator.queue")


def _check(name: str, check: Callable[[], object]) -> str:
    try:
        if check() is not False:
            return "ok"
        current_app.logger.warning("health check failed: %s", name)
        return "unreachable"
    except Exception:  # noqa: BLE001  (any failure of a dependency means not ready)
        current_app.logger.warning("health check failed: %s", name, exc_info=True)
        return "unreachable"


def _database() -> None:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()  # a broken connection goes back to the pool as such
        raise


def register_health_check(app: Flask, name: str, check: Callable[[], object]) -> None:
    """Add a readiness check (a callable that raises or returns False when its service is down)."""
    app.extensions.setdefault("facilitator_health_checks", {})[name] = check


def health_checks(app: Flask) -> dict[str, Callable[[], object]]:
    """The database, redis storage named in the configuration, and whatever subsystems registered."""
    checks: dict[str, Callable[[], object]] = {"database": _database}
    queue = _queue_module()
    if queue is not None:  # its storage: SQLite in the instance folder, or the Redis of QUEUE_URL/REDIS_URL
        checks["queue"] = lambda: g.setdefault("queue_ping", queue.queue_ping(app))["ok"]
    else:
        for key in ("QUEUE_URL", "REDIS_URL"):
            url = app.config.get(key) or ""
            if url.startswith(("redis://", "rediss://", "unix://")) and "queue" not in checks:
                checks["queue"] = partial(_redis_ping, url)
    if not str(app.config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory://"):
        checks["sign_in_limits"] = lambda: limiter.storage.check()
    checks.update(app.extensions.get("facilitator_health_checks", {}))
    return checks


def _redis_ping(url: str) -> object:
    import redis  # only a deployment with a Redis queue has it

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()


@bp.route("/")
@login_required
def home():
    """Staff start on today's meetings; participants on their own progress."""
    return redirect(url_for("meetings.today" if current_user.is_staff else "participants.me"))


@bp.app_template_global()
def participant_url(participant_id: int) -> str:
    """The participant page (used by every area's templates): the endpoint `participants.show`."""
    # One url_for per request, then the id appended: a list links hundreds of people.
    prefix = g.get("participant_url_prefix")
    if prefix is None:
        prefix = g.participant_url_prefix = url_for("participants.show", participant_id=0)[:-1]
    return prefix + str(int(participant_id))
