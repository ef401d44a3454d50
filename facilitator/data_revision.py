"""One number that names the committed state of the program data, and a per-process memo keyed by it.

Every transaction that changed a tracked table sets the number to a new random value as it commits
(random, not counting up: a restored backup brings back its own number with its own data, so a
number never names two states). A request reads the number once; whatever it derives from the
database (calendars' inputs, progress stamps, the dashboard) can then be remembered in this process
under that number and reused by later requests that read the same number, on any worker and any
machine, because each checks the database first. A transaction that has written and not yet
committed neither reads nor fills the memo (what it sees is not the state the number names); a save
may use it for what it reads before it writes.

Each changed table also gets a new number of its own (table_revision). A memo entry that names the
tables it reads is keyed by their numbers, not the whole state's, and so outlives changes elsewhere:
module titles and a person's incentives survive the attendance saved all day. Under test, every
such entry is checked to read nothing beyond the tables it names.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import BigInteger, Column, Integer, Select, String, TextClause, event, inspect, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql import visitors
from sqlalchemy.sql.util import find_tables

from .extensions import db
from .kept import MISSING, Kept

T = TypeVar("T")

# Written on read paths or not data anything is derived from: a change here keeps the number.
UNTRACKED = frozenset({"data_revision", "table_revision", "audit_event", "sign_in_attempt"})
CHANGED = "facilitator_data_changed"  # session.info: the tracked tables this transaction wrote
MEMO_SIZE = 512
WHOLE = "*"  # in the numbers a request reads: the whole state's
# Bookkeeping columns, which no remembered figure reads (under test, one that does must name
# "table.bookkeeping"): a change confined to them gets that name's number, not the table's. A
# meeting's attendance version and update time move on every save of its attendance; its calendar
# (date, status, module) stays the same.
SIDE_COLUMNS = {"meeting": frozenset({"attendance_version", "updated_at"})}
# Requests that never use a remembered figure: no numbers read for them.
UNREMEMBERED_ENDPOINTS = frozenset({"static", "web.health"})


class DataRevision(db.Model):
    """The single row holding the current revision number."""

    __tablename__ = "data_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, nullable=False)


class TableRevision(db.Model):
    """The number naming one table's committed state (rows for every table from migration 0012 on; a
    table added later gets its row when first written, and until then the whole state's number stands in)."""

    __tablename__ = "table_revision"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, nullable=False)


def new_number() -> int:
    """A fresh random revision number (positive, fits a signed 64-bit column)."""
    return secrets.randbits(62) + 1


def current() -> int | None:
    """The revision this request sees, or None when nothing may be memoized (outside a request, no
    revision row, or this transaction has changes not yet committed: a save that has written)."""
    numbers = _numbers()
    return numbers[WHOLE] if numbers else None


def _numbers() -> dict[str, int] | None:
    # The whole state's number and every table's, read together once per request (one small query).
    if not has_request_context():  # the command line and the worker keep no request-scoped number
        return None
    numbers = g.get("data_revision")
    if numbers is None:
        rows = db.session.execute(
            select(literal(WHOLE, String()), DataRevision.number).where(DataRevision.id == 1)
            .union_all(select(TableRevision.name, TableRevision.number))).all()
        numbers = g.data_revision = dict(rows)
    else:
        db.session.flush()  # changes still pending in the session must set the flag (nothing to do: no SQL)
    if not numbers.get(WHOLE) or db.session.info.get(CHANGED):
        return None
    return numbers


_MEMO = Kept(MEMO_SIZE)


def remembered(kind: str, key: tuple, compute: Callable[[], T], reads: tuple[str, ...] = ()) -> T:
    """compute(), or what it returned before at this revision for the same kind and key.

    The value must be plain data (no ORM objects: they belong to one session) and must depend only
    on the database and the key. With `reads` (table names), it must depend only on those tables and
    the key, and is reused until one of them changes; without, until anything changes."""
    _note_read(reads or (WHOLE,))
    numbers = _numbers()
    if numbers is None:
        return compute()
    # A table never written since the revision rows began has no number: the whole state's stands in.
    stamp = tuple(numbers.get(name, numbers[WHOLE]) for name in reads) if reads else numbers[WHOLE]
    full = (kind, stamp, key)
    found = _MEMO.get(full)
    if found is not MISSING:
        return found
    value = _checked(kind, reads, compute) if reads and current_app.testing else compute()
    _MEMO.put(full, value)
    return value


def _checked(kind: str, reads: tuple[str, ...], compute: Callable[[], T]) -> T:
    # Under test: the tables the computation read, by the statements it ran, are all named in `reads`.
    frames = g.setdefault("data_revision_reads", [])
    frames.append(set())
    try:
        value = compute()
    finally:
        read = frames.pop()
    beyond = read - set(reads)
    if beyond:
        raise AssertionError(f"The memo entry {kind!r} read {sorted(beyond)}, which its reads= does not name")
    return value


def _note_read(names: Iterable[str]) -> None:
    for frame in g.get("data_revision_reads", ()) if has_request_context() else ():
        frame.update(names)


def forget() -> None:
    """Empty this process's memo (benchmarks measuring a cold start)."""
    _MEMO.clear()


def _changed(session: Session, table_name: str | None) -> None:
    if table_name is not None and table_name not in UNTRACKED:
        session.info.setdefault(CHANGED, set()).add(table_name)


def _changed_side(session: Session, table_name: str, columns: set[str]) -> bool:
    # True when every column changed is a bookkeeping one (then only "table.bookkeeping" changes).
    side = SIDE_COLUMNS.get(table_name)
    if not columns or side is None or not columns <= side:
        return False
    _changed(session, f"{table_name}.bookkeeping")
    return True


def _after_flush(session: Session, _context: Any) -> None:
    dirty = set(session.dirty)
    for obj in (*session.new, *session.dirty, *session.deleted):
        name = getattr(getattr(obj, "__table__", None), "name", None)
        if obj in dirty and name in SIDE_COLUMNS:
            changed = {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()}
            if not changed or _changed_side(session, name, changed):
                continue  # nothing stored changed, or only side columns
        _changed(session, name)


def _on_execute(state: Any) -> None:
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        name = getattr(getattr(statement, "table", None), "name", None)
        values = getattr(statement, "_values", None) if state.is_update else None
        if not (name in SIDE_COLUMNS and values and _changed_side(
                state.session, name, {getattr(key, "key", key) for key in values})):
            _changed(state.session, name)
    elif state.is_select and has_request_context() and g.get("data_revision_reads"):
        if isinstance(statement, TextClause):
            _note_read((WHOLE,))
            return
        tables = {t.name for t in find_tables(statement, include_joins=True, include_crud=True)}
        _note_read(tables | (_side_columns_read(statement) if tables & SIDE_COLUMNS.keys() else set()))


def _side_columns_read(statement: Any) -> set[str]:
    # "table.bookkeeping" for each table whose bookkeeping the statement reads, by name or in a whole row.
    found = set()
    for element in visitors.iterate(statement):
        columns = [element] if isinstance(element, Column) else (
            [base for c in element.selected_columns for base in c.base_columns] if isinstance(element, Select) else [])
        for column in columns:
            table = getattr(column, "table", None)
            if isinstance(column, Column) and table is not None and column.name in SIDE_COLUMNS.get(table.name, ()):
                found.add(f"{table.name}.bookkeeping")
    return found


def _before_commit(session: Session) -> None:
    session.flush()  # the commit flushes after this hook; its changes must be seen here
    changed = session.info.pop(CHANGED, None)
    if changed:
        session.execute(update(DataRevision).where(DataRevision.id == 1).values(number=new_number()))
        # In name order: two commits touching the same tables lock their rows in the same order.
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(TableRevision).values([{"name": name, "number": new_number()}
                                                       for name in sorted(changed)])
        session.execute(upsert.on_conflict_do_update(index_elements=[TableRevision.name],
                                                     set_={"number": upsert.excluded.number}))
        if has_app_context():
            g.pop("data_revision", None)  # a request that goes on reading after its commit reads the new one


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the whole transaction is over (a savepoint's end keeps the flag)
        session.info.pop(CHANGED, None)


def init_app(app: Flask) -> None:
    """Watch every session for changes to tracked tables (once per process: the listeners are on the
    Session class, shared by every app); read the numbers first thing in each request."""

    @app.before_request
    def _numbers_first() -> None:
        # Before anything else is read (the signed-in user, the group a page shows): on PostgreSQL each
        # statement sees the latest commit, so data read after the numbers is never older than they
        # are, and nothing is remembered under a number newer than what it was built from.
        if request.endpoint not in UNREMEMBERED_ENDPOINTS:
            _numbers()

    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
