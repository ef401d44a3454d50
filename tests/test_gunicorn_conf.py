"""gunicorn.conf.py's own logic: a worker whose memory has grown past GUNICORN_MAX_RSS_MB is replaced
after its request (gunicorn then starts a fresh one); a worker under the limit keeps serving with its
warm caches."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"


class Worker:
    """The parts of a gunicorn worker the hook touches."""

    def __init__(self) -> None:
        self.alive, self.pid, self.messages = True, 4242, []
        self.log = self

    def info(self, message: str, *args) -> None:
        self.messages.append(message % args)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="resident memory is read from /proc")
@pytest.mark.parametrize(("limit", "replaced"), [("1", True), ("100000", False)])
def test_a_worker_over_the_memory_limit_is_replaced_after_its_request(monkeypatch, limit, replaced):
    monkeypatch.setenv("GUNICORN_MAX_RSS_MB", limit)
    conf = runpy.run_path(str(CONF))
    worker = Worker()
    conf["post_request"](worker, None, {}, None)
    assert worker.alive is not replaced
    assert bool(worker.messages) is replaced
    if replaced:
        assert "over GUNICORN_MAX_RSS_MB=1" in worker.messages[0]


def test_workers_are_not_replaced_after_a_few_thousand_requests():
    conf = runpy.run_path(str(CONF))
    assert conf["max_requests"] >= 20000  # memory decides; a new worker starts with cold caches
