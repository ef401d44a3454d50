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
        cursor.execute("PRAGMA busy_timeout=5000")  # concurrent writers wait instead of failing at once
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Engine) -> None:
        connection.exec_driver_sql("BEGIN")
