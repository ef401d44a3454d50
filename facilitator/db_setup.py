"""Engine settings that make SQLite behave like the production database where it matters.

Transactions of read requests (GET, HEAD, OPTIONS) begin deferred: in WAL mode a reader never waits,
so pages are not serialized behind SQLite's single write lock. Every other transaction begins as a
writer (BEGIN IMMEDIATE), and so does anything inside `writing()` (the audit of a read request is
written that way at the end of the request, see audit.services)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BUSY_TIMEOUT_MS = 10000

_mode: ContextVar[str | None] = ContextVar("facilitator_transaction_mode", default=None)


@contextmanager
def _transactions(mode: str) -> Iterator[None]:
    token = _mode.set(mode)
    try:
        yield
    finally:
        _mode.reset(token)


def writing():
    """Within this block a new transaction begins as a writer, even while serving a read request."""
    return _transactions("write")


def reading():
    """Within this block a new transaction begins deferred, even while serving a POST: for slow work
    that only reads (a password hash must not hold the write lock); commit before writing."""
    return _transactions("read")


def read_request() -> bool:
    """True while serving a GET, HEAD or OPTIONS request (or inside `reading()`), outside `writing()`:
    its transactions only read."""
    mode = _mode.get()
    if mode is not None:
        return mode == "read"
    return has_request_context() and request.method in READ_METHODS


def init_app(app: Flask) -> None:
    """Turn on SQLite foreign keys, WAL, a busy timeout and real transactions (with savepoints)."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine  # built lazily; no connection is opened here

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy emits BEGIN itself below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores foreign keys unless asked
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # writers wait for each other instead of failing
        if not app.config["SQLALCHEMY_DATABASE_URI"].endswith(":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Engine) -> None:
        # A deferred transaction that reads and then writes cannot wait for the write lock: if another
        # writer committed after its first read, SQLite refuses the upgrade at once ("database is
        # locked", busy_timeout or not). So a transaction that may write takes the lock up front
        # (IMMEDIATE; a second writer waits its turn), and a read request's transaction, which must not
        # write, begins deferred and never waits.
        connection.exec_driver_sql("BEGIN" if read_request() else "BEGIN IMMEDIATE")
