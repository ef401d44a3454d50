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

Attendance rows are each one person's, and a change to one also gets a number for that person
(person_revision). A read of a few people's rows, inside people_rows() or a memo entry given `people`,
is then of their numbers, not the table's: under test such a read is checked to filter on them. A
whole page (web.remembered_pages) notes everything its build read, tables and people, and is kept
until one of those changes: a person's page outlives the attendance saved all day for others.
"""

from __future__ import annotations

import secrets
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import BigInteger, Integer, String, event, inspect, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.util import find_tables

from .extensions import db
from .kept import MISSING, Kept
from .read_checks import filtered_to, statement_reads

T = TypeVar("T")

# Written on read paths or not data anything is derived from: a change here keeps the number.
UNTRACKED = frozenset({"data_revision", "table_revision", "person_revision", "audit_event", "sign_in_attempt"})
CHANGED = "facilitator_data_changed"  # session.info: the tracked tables this transaction wrote
MEMO_SIZE = 512
WHOLE = "*"  # in the numbers a request reads: the whole state's
# Bookkeeping columns, which no remembered figure reads (under test, one that does must name
# "table.bookkeeping"): a change confined to them gets that name's number, not the table's. A
# meeting's attendance version and update time move on every save of its attendance; its calendar
# (date, status, module) stays the same.
SIDE_COLUMNS = {"meeting": frozenset({"attendance_version", "updated_at"})}
# Tables whose every row is one participant's, by the column naming them. A changed row also sets its
# person's number ("attendance/12"); a change that does not say whose rows (a bulk statement) sets the
# number of everyone's ("attendance/*"), which every read of people's rows includes.
PER_PERSON = {"attendance": "participant_id"}
ANYONE = "*"
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


class PersonRevision(db.Model):
    """The number naming the committed state of one person's rows of a PER_PERSON table (no row: 0)."""

    __tablename__ = "person_revision"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    participant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
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
        rows = db.session.connection().execute(  # Core, not the ORM: plain rows, less work
            select(literal(WHOLE, String()), DataRevision.number).where(DataRevision.id == 1)
            .union_all(select(TableRevision.name, TableRevision.number))).all()
        numbers = g.data_revision = dict(rows)
    else:
        db.session.flush()  # changes still pending in the session must set the flag (nothing to do: no SQL)
    if not numbers.get(WHOLE) or db.session.info.get(CHANGED):
        return None
    return numbers


_MEMO = Kept(MEMO_SIZE)


def remembered(kind: str, key: tuple, compute: Callable[[], T], reads: tuple[str, ...] = (),
               people: Iterable[int] | None = None) -> T:
    """compute(), or what it returned before at this revision for the same kind and key.

    The value must be plain data (no ORM objects: they belong to one session) and must depend only
    on the database and the key. With `reads` (table names), it must depend only on those tables and
    the key, and is reused until one of them changes; without, until anything changes. With `people`,
    it reads only their rows of a PER_PERSON table in `reads` (checked under test), and a page using
    it depends on their rows, not the table."""
    if people is not None:
        people = frozenset(people)
        _note_read(_of_people(reads or (WHOLE,), people))
        inner = compute

        def compute() -> T:
            with people_rows(people):
                return inner()
    else:
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
    beyond = {name.split("/")[0] for name in read} - set(reads)  # a person's rows are of their table
    if beyond:
        raise AssertionError(f"The memo entry {kind!r} read {sorted(beyond)}, which its reads= does not name")
    return value


def _note_read(names: Iterable[str]) -> None:
    frames = g.get("data_revision_reads", ()) if has_request_context() else ()
    if not frames:
        return
    names = set(names) - UNTRACKED  # no number: a page shows them live (who opened a record), or not at all
    people = [name for name in names if "/" in name]
    if people and g.get("data_revision_pages"):
        _people_numbers(people)  # before the rows they stand for are read (see _numbers_first)
    for frame in frames:
        frame.update(names)


def _of_people(names: Iterable[str], people: frozenset[int]) -> set[str]:
    # The names a read of these tables stands for when it is of these people's rows only.
    out = set()
    for name in names:
        if name in PER_PERSON:
            out |= {f"{name}/{pid}" for pid in people} | {f"{name}/{ANYONE}"}
        else:
            out.add(name)
    return out


@contextmanager
def people_rows(people: Iterable[int]) -> Iterator[None]:
    """Inside, every read of a PER_PERSON table (attendance) is of these people's rows only: a page that
    reads them is kept until one of their rows changes. Under test each such read must filter on them."""
    if not has_request_context():
        yield
        return
    scopes = g.setdefault("data_revision_people", [])
    scopes.append(frozenset(people))
    try:
        yield
    finally:
        scopes.pop()


class Reads:
    """What a page's build read: table names, "table.bookkeeping", "table/person" and "*"."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.complete = True  # False: the numbers changed while it was read (this request committed)


@contextmanager
def noting() -> Iterator[Reads]:
    """Note every table, bookkeeping and person's rows read inside, and the tables of the rows already
    loaded (the signed-in user, the group of the address), which the build may use as they are."""
    loaded = {getattr(getattr(type(obj), "__table__", None), "name", None) for obj in db.session.identity_map.values()}
    reads = Reads({name for name in loaded if name and name not in UNTRACKED})
    before = g.get("data_revision")
    frames = g.setdefault("data_revision_reads", [])
    frames.append(reads.names)
    g.data_revision_pages = g.get("data_revision_pages", 0) + 1
    try:
        yield reads
    finally:
        frames.pop()
        g.data_revision_pages -= 1
        reads.complete = before is not None and g.get("data_revision") is before


def stamp(names: Iterable[str]) -> tuple | None:
    """The current numbers of these names, in their order (None: nothing may be reused now)."""
    numbers = _numbers()
    if numbers is None:
        return None
    names = tuple(names)
    people = _people_numbers([name for name in names if "/" in name])
    return tuple(people[name] if "/" in name else numbers.get(name, numbers[WHOLE]) for name in names)


def _people_numbers(names: list[str]) -> dict[str, int]:
    # Numbers of "table/person" names, read once per request; "table/*" is a table_revision row.
    known = g.setdefault("data_revision_people_numbers", {})
    missing = [name for name in names if name not in known]
    if not missing:
        return known
    numbers = g.get("data_revision") or {}
    wanted: dict[str, set[int]] = {}
    for name in missing:
        table, _, who = name.partition("/")
        if who == ANYONE:
            known[name] = numbers.get(name, 0)
        else:
            wanted.setdefault(table, set()).add(int(who))
    for table, ids in wanted.items():
        known.update({f"{table}/{pid}": number for pid, number in _numbers_of_people(table, ids, numbers.get(table)).items()})
    return known


# Per table: the people's numbers this process has read, and the table's number they were read at (in the
# same statement, so of one state). While a request reads that table number first thing, none of them has
# changed since: they are used without asking the database again.
_PEOPLE_SEEN: dict[str, tuple[int, dict[int, int]]] = {}


def _numbers_of_people(table: str, ids: set[int], table_number: int | None) -> dict[int, int]:
    seen_at, seen = _PEOPLE_SEEN.get(table, (None, {}))
    if table_number is not None and seen_at == table_number and ids <= seen.keys():
        return {pid: seen[pid] for pid in ids}
    # A plain connection: not a read of the page's data, so not noted by the page.
    rows = db.session.connection().execute(
        select(PersonRevision.participant_id, PersonRevision.number)
        .where(PersonRevision.name == table, PersonRevision.participant_id.in_(sorted(ids)))
        .union_all(select(literal(0), TableRevision.number).where(TableRevision.name == table))).all()
    # The row marked 0 (no participant has that id) is the table's number, of the same state as the others.
    read_at = next((number for pid, number in rows if pid == 0), None)
    found = {pid: number for pid, number in rows if pid != 0}
    found.update({pid: 0 for pid in ids - found.keys()})  # no row: never changed since the revisions began
    if read_at is not None:
        _PEOPLE_SEEN[table] = (read_at, {**seen, **found} if seen_at == read_at else found)
    return found


def forget() -> None:
    """Empty this process's memo (benchmarks measuring a cold start)."""
    _MEMO.clear()
    _PEOPLE_SEEN.clear()


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
        if obj in dirty and (name in SIDE_COLUMNS or name in PER_PERSON):
            changed = {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()}
            if not changed or _changed_side(session, name, changed):
                continue  # nothing stored changed, or only side columns
        _changed(session, name)
        if name in PER_PERSON:
            history = inspect(obj).attrs[PER_PERSON[name]].history  # whose row it was, and is
            people = {*history.added, *history.unchanged, *history.deleted}
            for pid in people if people and None not in people else (ANYONE,):
                _changed(session, f"{name}/{pid}")


def _on_execute(state: Any) -> None:
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        name = getattr(getattr(statement, "table", None), "name", None)
        values = getattr(statement, "_values", None) if state.is_update else None
        if not (name in SIDE_COLUMNS and values and _changed_side(
                state.session, name, {getattr(key, "key", key) for key in values})):
            _changed(state.session, name)
            if name in PER_PERSON:  # a statement does not say whose rows it changed
                _changed(state.session, f"{name}/{ANYONE}")
    elif (state.is_select and has_request_context() and current_app.testing and g.get("data_revision_people")
          and g.get("data_revision_reads")):
        # Under test: a read inside people_rows() filters on those people (the values are only known here).
        people = g.data_revision_people[-1]
        tables = {t.name for t in find_tables(statement, include_joins=True, include_crud=True)}
        for table in tables & PER_PERSON.keys():
            filtered_to(statement, state.parameters, table, PER_PERSON[table], people)


# What each compiled SELECT reads. SQLAlchemy compiles a statement once per shape and reuses the compiled
# form, so walking a statement's structure is paid once per shape, not on every execution.
_READ_BY_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _before_cursor_execute(_connection: Any, _cursor: Any, _sql: str, _parameters: Any, context: Any,
                           _executemany: bool) -> None:
    # Note the tables (and bookkeeping, and people's rows) a SELECT run inside noting() or a checked memo reads.
    if context is None or context.is_crud or context.compiled is None or not has_request_context():
        return
    if not g.get("data_revision_reads"):
        return
    compiled = context.compiled
    names = _READ_BY_COMPILED.get(compiled)
    if names is None:
        names = _READ_BY_COMPILED[compiled] = statement_reads(compiled.statement, SIDE_COLUMNS, WHOLE)
    people = g.get("data_revision_people")
    if people and names & PER_PERSON.keys():
        names = _of_people(names, people[-1])
    _note_read(names)


def _before_commit(session: Session) -> None:
    session.flush()  # the commit flushes after this hook; its changes must be seen here
    changed = session.info.pop(CHANGED, None)
    if changed:
        session.execute(update(DataRevision).where(DataRevision.id == 1).values(number=new_number()))
        # In name order: two commits touching the same tables lock their rows in the same order.
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        tables = sorted(name for name in changed if "/" not in name or name.endswith("/" + ANYONE))
        upsert = dialect.insert(TableRevision).values([{"name": name, "number": new_number()} for name in tables])
        session.execute(upsert.on_conflict_do_update(index_elements=[TableRevision.name],
                                                     set_={"number": upsert.excluded.number}))
        people = sorted((table, int(who)) for table, _, who in (name.partition("/") for name in changed)
                        if who and who != ANYONE)
        if people:
            upsert = dialect.insert(PersonRevision).values(
                [{"name": table, "participant_id": pid, "number": new_number()} for table, pid in people])
            session.execute(upsert.on_conflict_do_update(
                index_elements=[PersonRevision.name, PersonRevision.participant_id],
                set_={"number": upsert.excluded.number}))
        if has_app_context():
            # A request that goes on reading after its commit reads the new numbers.
            g.pop("data_revision", None)
            g.pop("data_revision_people_numbers", None)


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
    if not event.contains(Engine, "before_cursor_execute", _before_cursor_execute):
        event.listen(Engine, "before_cursor_execute", _before_cursor_execute)
