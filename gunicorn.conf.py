"""gunicorn settings for facilitator: `gunicorn -c gunicorn.conf.py` (see docs/deploy.md).

Every value can be overridden from the environment without editing this file: WEB_CONCURRENCY
(workers), GUNICORN_THREADS, GUNICORN_BIND, GUNICORN_TIMEOUT, LOG_FORMAT (text or json)."""

import multiprocessing
import os

wsgi_app = "facilitator:create_app()"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # behind the reverse proxy, never public

# Pages are CPU-bound (25-35 ms each) with short waits on the database: 2 x cores + 1 processes, capped
# so that a big machine does not open more database connections than PostgreSQL allows by default
# (each worker pools up to 5 + 10). WEB_CONCURRENCY is the conventional override.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
# Threads cover the waits (database, a document being rendered by the worker, slow clients the
# proxy has not buffered); the GIL keeps CPU work at one page per process anyway.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))

# A page answers in well under a second; 60 s only cuts off a stuck request (long documents are
# rendered by `facilitator worker`, not in a web process). graceful_timeout lets requests in flight
# finish on a restart or deploy before the worker is killed.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5  # the proxy keeps connections open to gunicorn

# A worker is replaced after a while: WeasyPrint's memory is not returned to the OS (design notes).
max_requests = 2000
max_requests_jitter = 200

# preload_app off: each worker builds the app itself, so no database connection or open file is
# shared across fork, and `kill -HUP` reloads new code without restarting the master.
preload_app = False

# Logs to stdout/stderr (systemd's journal or the container runtime collects them). The access line
# names the path without its query string (it may hold participant ids or names) and the request id
# the app echoes in X-Request-ID. With LOG_FORMAT=json the app writes its own JSON access line per
# request instead, and gunicorn's own messages are JSON too.
errorlog = "-"
loglevel = "info"
if os.environ.get("LOG_FORMAT", "text").lower() == "json":
    accesslog = None
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "facilitator.web.logging.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                                 "stream": "ext://sys.stderr"}},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
                    # the app's own JSON access line replaces gunicorn's (whose request line has the query)
                    "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False}},
    }
else:
    accesslog = "-"
    access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'

# gunicorn 23+ opens a control socket in the user's home (~/.gunicorn/gunicorn.ctl): several servers
# of one user would share it, and nothing here uses it (systemd reloads with HUP).
control_socket_disable = True

# The proxy in front sets X-Forwarded-*; the app trusts them only with PROXY_FIX=1 (werkzeug ProxyFix).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
