"""`facilitator worker`: the Huey consumer that runs background jobs (long documents).

One worker per machine: it runs one render per CPU core, each in a fresh process (huey's process
workers recycled after every task), so a render's memory goes back to the OS when it ends.
"""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext
from huey.consumer import Consumer

from . import cpu_count, queue_for


@click.command("worker")
@click.option("--workers", type=click.IntRange(min=1), help="Jobs at once (default: the CPU cores this process may use).")
@with_appcontext
def worker_command(workers: int | None) -> None:
    """Run the background worker: long documents (the handbook, big packets) render here."""
    app = current_app._get_current_object()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # its progress records name every URL loaded
    queue = queue_for(app)
    from ..documents import jobs

    # Jobs this host was running when its previous worker died go back on the queue now, not in a minute.
    requeued = jobs.reap(queue, int(app.config.get("DOCUMENT_PERSONAL_SECONDS", jobs.DEFAULT_PERSONAL_SECONDS)))
    if requeued:
        click.echo(f"put {len(requeued)} interrupted job(s) back on the queue")
    import weasyprint  # noqa: F401  (imported once here: every forked worker starts with it loaded)

    consumer = _Consumer(
        queue.huey, workers=workers or cpu_count(), worker_type="process",
        max_tasks=1,  # a fresh process per job: WeasyPrint's memory is released when it exits
        check_worker_health=True, health_check_interval=1,  # the recycled process is replaced within a second
        periodic=True)  # the once-a-minute clean-up (lost and expired jobs)
    click.echo(f"worker: {consumer.workers} process(es) on the {'Redis' if 'redis' in queue.url else 'SQLite'} queue")
    consumer.run()


class _Consumer(Consumer):
    """Huey's consumer whose child processes (workers, scheduler) end when it is killed.

    kill -9 leaves the consumer no time to stop them; orphans would go on taking jobs."""

    def _create_process(self, process, name):
        initialize = process.initialize

        def die_with_parent_then_initialize() -> None:
            _die_with_parent()
            initialize()

        process.initialize = die_with_parent_then_initialize
        return super()._create_process(process, name)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (PR_SET_PDEATHSIG); elsewhere, nothing."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
