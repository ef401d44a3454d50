"""Writing audit events; callers pass ids and field names, never health data values.

While serving a read request (GET, HEAD) the events are kept on the request and written at its end, in
a short transaction of their own that begins as a writer (see db_setup): the page's reads then never
turn into a write that SQLite could refuse under load. The response is not sent until they are
written; if they cannot be, after retries, the reader gets a 503 instead of the page."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy import insert
from sqlalchemy.exc import OperationalError

from .. import db_setup
from ..extensions import db
from ..models_base import utcnow
from .models import AuditEvent

log = logging.getLogger(__name__)


def N_(text: str) -> str:  # noqa: N802 - the gettext convention: marks a string for extraction only
    return text


WRITE_ATTEMPTS = 3  # each waits up to the busy timeout (10 s) for the write lock
RETRY_PAUSE_SECONDS = 0.2


class AuditUnavailable(RuntimeError):
    """The audit of a read could not be written; the page must not be sent."""


def _row(action: str, entity: str, entity_id: int | None, user_id: int | None, program_id: int | None,
         participant_id: int | None, detail: dict[str, Any] | None, remote_addr: str) -> dict[str, Any]:
    return {"at": utcnow(), "user_id": user_id, "program_id": program_id, "action": action, "entity": entity,
            "entity_id": entity_id, "participant_id": participant_id, "detail": detail or {},
            "remote_addr": remote_addr[:45]}


def _pending() -> list[dict[str, Any]] | None:
    """This read request's events waiting to be written (None outside a read request)."""
    if not db_setup.read_request():
        return None
    if "audit_pending" not in g:
        g.audit_pending = []
    return g.audit_pending


def record(action: str, entity: str, entity_id: int | None, *, user: Any = None, program_id: int | None = None,
           participant_id: int | None = None, detail: dict[str, Any] | None = None,
           remote_addr: str = "") -> None:
    """Add an audit event to the session (the caller's commit makes it permanent), or to the read
    request's events written at its end."""
    row = _row(action, entity, entity_id, getattr(user, "id", None),
               program_id if program_id is not None else getattr(user, "program_id", None),
               participant_id, detail, remote_addr)
    pending = _pending()
    if pending is not None:
        pending.append(row)
    else:
        db.session.add(AuditEvent(**row))


def record_many(action: str, entity: str, entity_id: int | None, participant_ids: list[int], *, user: Any,
                remote_addr: str = "", detail: dict[str, Any] | None = None) -> None:
    """One event per participant in a single statement (a roster view reads many records at once)."""
    if not participant_ids:
        return
    _add_rows([_row(action, entity, entity_id, user.id, user.program_id, pid, detail, remote_addr)
               for pid in participant_ids])


def record_rows(rows: Iterable[Mapping[str, Any]], *, remote_addr: str = "") -> None:
    """Record events again as they were recorded before (who, what, whom), now and from this address: a
    page reused whole records what its first rendering recorded."""
    now = utcnow()
    fresh = [{**row, "at": now, "remote_addr": remote_addr[:45]} for row in rows]
    if fresh:
        _add_rows(fresh)


def _add_rows(rows: list[dict[str, Any]]) -> None:
    # A read request's events wait to be written at its end; a write request's go into its transaction.
    pending = _pending()
    if pending is not None:
        pending.extend(rows)
    else:
        db.session.execute(insert(AuditEvent), rows)


def pending_events() -> list[dict[str, Any]]:
    """The events of this read request not yet written (a page that shows the trail includes them)."""
    return list(g.get("audit_pending", []))


# A plain table insert, built once: every page that shows participant data writes one, and the ORM's
# bulk insert path costs twice as much for the same rows.
_INSERT = AuditEvent.__table__.insert()


def _insert_rows(rows: list[dict[str, Any]]) -> None:
    db.session.connection().execute(_INSERT, rows)


def write_pending() -> None:
    """Write the read request's events in a writer transaction (on SQLite a short one of their own),
    retrying when the database is busy; raise AuditUnavailable if they still cannot be written."""
    rows = g.pop("audit_pending", None)
    if not rows:
        return
    if db.engine.dialect.name == "sqlite":
        # SQLite: a read transaction that starts writing can meet "database is locked"; end it and write
        # in one that begins as a writer. PostgreSQL writes in the page's own transaction: no extra
        # commit, and no second connection check-out with its ping.
        db.session.commit()
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            with db_setup.writing():
                _insert_rows(rows)
                db.session.commit()
            return
        except OperationalError as error:
            db.session.rollback()
            log.warning("audit write failed (attempt %d of %d): %s", attempt, WRITE_ATTEMPTS, error.orig)
            time.sleep(RETRY_PAUSE_SECONDS * attempt)
    raise AuditUnavailable(f"{len(rows)} audit events of a {request.method} request could not be written")


def init_app(app: Flask) -> None:
    """Write each read request's audit events before its response leaves; 503 if that fails."""

    @app.after_request
    def _write_audit(response: Response) -> Response:
        try:
            write_pending()
        except AuditUnavailable:
            log.exception("audit unavailable; the response is withheld")
            if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
                unavailable = jsonify(error=UNAVAILABLE, status=503)
            else:
                unavailable = Response(render_template("errors/error.html", code=503, message=_(UNAVAILABLE)),
                                       mimetype="text/html")
            unavailable.status_code = 503
            unavailable.headers["Retry-After"] = "5"
            return unavailable
        return response


# The API answers in English; the page in the person's language (the same message, marked for translation).
UNAVAILABLE = N_("The page could not be shown because the record of who opened it could not be saved. Please try again.")
