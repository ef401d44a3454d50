"""Engine settings that make SQLite behave like the production database where it matters."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db


def init_app(app: Flask) -> None:
    """Turn on SQLite foreign keys and real transactions (with savepoints) for this app's engine."""
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
        cursor.execute("PRAGMA busy_timeout=10000")  # concurrent writers wait instead of failing at once
        if not app.config["SQLALCHEMY_DATABASE_URI"].endswith(":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Engine) -> None:
        # IMMEDIATE: take the write lock up front. Two deferred transactions that both read and then
        # write deadlock in SQLite and one fails at once with "database is locked"; this way the
        # second simply waits (busy_timeout) for the first to commit.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
