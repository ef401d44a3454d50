"""Request ids and log lines: LOG_FORMAT=json writes one JSON object per line (for a log shipper),
otherwise plain text. Every line written while serving a request carries its id, taken from the
X-Request-ID header when it is a sane token (a proxy's id links its log to ours) and made up
otherwise; the response echoes it. Access lines name the method, the path without its query string,
the status and the time: never a query string or a form value (they may hold health data)."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")  # a proxy's or load balancer's id, nothing else
access_log = logging.getLogger("facilitator.access")


def request_id() -> str:
    """This request's id ('-' outside a request)."""
    return g.get("request_id", "-") if has_request_context() else "-"


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (so any format string can name it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Stamp the record with the current request's id; never drops a record."""
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, and any extra fields."""

    EXTRA = ("method", "path", "status", "duration_ms", "remote_addr")

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        entry.update({name: getattr(record, name) for name in self.EXTRA if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def handler(fmt: str) -> logging.Handler:
    """A stderr handler in the given format ('json' or 'text'), stamping request ids."""
    out = logging.StreamHandler(sys.stderr)
    out.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    out.addFilter(RequestIdFilter())
    return out


def init_app(app: Flask) -> None:
    """Give each request an id, echo it, and log through one handler in LOG_FORMAT; in JSON, also one
    access line per request (in text the server's own access log has it: gunicorn.conf.py)."""
    fmt = app.config.get("LOG_FORMAT", "text")
    if not app.testing:
        # app.logger is the "facilitator" logger: every module's logger ("facilitator.x") reaches it.
        logger = logging.getLogger("facilitator")
        logger.removeHandler(default_handler)
        if not any(getattr(h, "facilitator_handler", False) for h in logger.handlers):
            out = handler(fmt)
            out.facilitator_handler = True  # one handler per process, however many apps are built
            logger.addHandler(out)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # a root handler (gunicorn's, the CLI's) would print each line twice

    @app.before_request
    def _assign_id() -> None:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = offered if SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _echo_id(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = request_id()
        if fmt == "json":
            started = g.get("request_started")
            access_log.info("request", extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                "remote_addr": request.remote_addr or ""})
        return response
