"""One number that names the committed state of the program data, and a per-process memo keyed by it.

Every transaction that changed a tracked table sets the number to a new random value as it commits
(random, not counting up: a restored backup brings back its own number with its own data, so a
number never names two states). A request reads the number once; whatever it derives from the
database (calendars' inputs, progress stamps, the dashboard) can then be remembered in this process
under that number and reused by later requests that read the same number, on any worker and any
machine, because each checks the database first. A transaction that has written and not yet
committed neither reads nor fills the memo (what it sees is not the state the number names); a save
may use it for what it reads before it writes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, g, has_app_context, has_request_context
from sqlalchemy import BigInteger, Integer, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .extensions import db
from .kept import MISSING, Kept

T = TypeVar("T")

# Written on read paths or not data anything is derived from: a change here keeps the number.
UNTRACKED = frozenset({"data_revision", "audit_event", "sign_in_attempt"})
CHANGED = "facilitator_data_changed"  # session.info flag: this transaction wrote a tracked table
MEMO_SIZE = 512


class DataRevision(db.Model):
    """The single row holding the current revision number."""

    __tablename__ = "data_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, nullable=False)


def new_number() -> int:
    """A fresh random revision number (positive, fits a signed 64-bit column)."""
    return secrets.randbits(62) + 1


def current() -> int | None:
    """The revision this request sees, or None when nothing may be memoized (outside a request, no
    revision row, or this transaction has changes not yet committed: a save that has written)."""
    if not has_request_context():  # the command line and the worker keep no request-scoped number
        return None
    number = g.get("data_revision")
    if number is None:
        number = g.data_revision = db.session.scalar(select(DataRevision.number).where(DataRevision.id == 1)) or 0
    else:
        db.session.flush()  # changes still pending in the session must set the flag (nothing to do: no SQL)
    if not number or db.session.info.get(CHANGED):
        return None
    return number


_MEMO = Kept(MEMO_SIZE)


def remembered(kind: str, key: tuple, compute: Callable[[], T]) -> T:
    """compute(), or what it returned before at this revision for the same kind and key.

    The value must be plain data (no ORM objects: they belong to one session) and must depend only
    on the database and the key."""
    number = current()
    if number is None:
        return compute()
    full = (kind, number, key)
    found = _MEMO.get(full)
    if found is not MISSING:
        return found
    value = compute()
    _MEMO.put(full, value)
    return value


def forget() -> None:
    """Empty this process's memo (benchmarks measuring a cold start)."""
    _MEMO.clear()


def _tracked(table_name: str | None) -> bool:
    return table_name is not None and table_name not in UNTRACKED


def _after_flush(session: Session, _context: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _tracked(getattr(getattr(obj, "__table__", None), "name", None)):
            session.info[CHANGED] = True
            return


def _on_execute(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if _tracked(getattr(table, "name", None)):
            state.session.info[CHANGED] = True


def _before_commit(session: Session) -> None:
    session.flush()  # the commit flushes after this hook; its changes must be seen here
    if session.info.pop(CHANGED, False):
        session.execute(update(DataRevision).where(DataRevision.id == 1).values(number=new_number()))
        if has_app_context():
            g.pop("data_revision", None)  # a request that goes on reading after its commit reads the new one


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the whole transaction is over (a savepoint's end keeps the flag)
        session.info.pop(CHANGED, None)


def init_app(app: Flask) -> None:
    """Watch every session for changes to tracked tables (once per process: the listeners are on the
    Session class, shared by every app)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
