"""gunicorn settings for facilitator: `gunicorn -c gunicorn.conf.py` (see docs/deploy.md).

Every value can be overridden from the environment without editing this file: WEB_CONCURRENCY
(workers), GUNICORN_THREADS, GUNICORN_BIND, GUNICORN_TIMEOUT, GUNICORN_MAX_RSS_MB (a worker using more
memory is replaced), LOG_FORMAT (text or json)."""

import multiprocessing
import os

wsgi_app = "facilitator:create_app()"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # behind the reverse proxy, never public

# One process per core, capped so that a big machine does not open more database connections than
# PostgreSQL allows by default (a thread uses one connection at a time: at most workers x threads).
# Pages are CPU work (5-20 ms each) with short waits on the database, and the GIL runs one page at a
# time per process: processes beyond the cores only take turns on them, and each keeps its own copy of
# what pages remember (calendars, progress), so each is colder. WEB_CONCURRENCY is the conventional override.
workers = int(os.environ.get("WEB_CONCURRENCY", min(max(multiprocessing.cpu_count(), 2), 8)))
# Two threads a process: one page runs while the other waits on the database, a rendered document or
# a slow client the proxy has not buffered. More requests in flight did not buy more throughput on 2
# cores: measured with bench/bench_load.py, 50 clients, PostgreSQL, runs alternating on 2026-12-07
# (requests/s answered, server CPU a request). In one series, 2 workers x 2 threads 143-158 (9.7-10.5 ms)
# against 2 x 4 102-111 (13.2-14.6 ms); 2 x 1 151, 2 x 3 117, 3 x 2 114. In a later series, on a machine
# that had become faster, 2 x 2 141-173 against 2 x 4 120-164, within the runs' wander. Fewer threads
# also mean fewer database connections.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 2))

# A page answers in well under a second; 60 s only cuts off a stuck request (long documents are
# rendered by `facilitator worker`, not in a web process). graceful_timeout lets requests in flight
# finish on a restart or deploy before the worker is killed.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5  # the proxy keeps connections open to gunicorn

# A worker is replaced when its memory has grown (post_request below), not after a fixed number of
# requests: WeasyPrint keeps about 1.3 MB per rendered page and never returns it to the OS (design
# notes), but most requests render nothing (PDFs come from the document cache), and a new worker starts
# with empty caches (group calendars, progress: a cold page costs several times a warm one). At 100
# requests/s, replacing each of 5 workers every 2,000 requests meant a cold worker every 20 s.
# max_requests stays as a backstop against any other slow growth.
max_requests = 50000
max_requests_jitter = 5000
MAX_RSS_MB = int(os.environ.get("GUNICORN_MAX_RSS_MB", 512))  # a warm worker holds about 130-180 MB


def post_request(worker, req, environ, resp):
    """Replace this worker once it finishes its requests if its resident memory passed MAX_RSS_MB."""
    try:
        with open("/proc/self/statm") as statm:  # Linux; elsewhere only max_requests applies
            resident = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return
    if worker.alive and resident > MAX_RSS_MB * 1024 * 1024:
        worker.log.info("Replacing worker %s: %d MB resident, over GUNICORN_MAX_RSS_MB=%d", worker.pid,
                        resident // (1024 * 1024), MAX_RSS_MB)
        worker.alive = False  # what max_requests does: requests in flight finish, then a new worker starts

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
