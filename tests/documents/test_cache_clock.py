"""The document cache under a clock that is not the machine's (frozen in tests, faked
with faketime), and a cached file deleted by another process: a document always comes back."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import time_machine

from facilitator import clock
from facilitator.documents import service

from ..conftest import login

YEARS_20 = timedelta(days=20 * 365)


@pytest.fixture
def renders(monkeypatch):
    """Count the service's renders."""
    count = [0]
    real = service.render

    def counting(job, progress=None):
        count[0] += 1
        return real(job, progress)

    monkeypatch.setattr(service, "render", counting)
    return count


@pytest.mark.parametrize("shift", [YEARS_20, -YEARS_20], ids=["far-future", "far-past"])
def test_personal_documents_come_back_under_a_clock_far_from_the_machines(
        client, session, make_program, make_group, make_participant, make_user, document_cache, renders, shift):
    program = make_program()
    person = make_participant(program, make_group(program))
    user = make_user("facilitator", program)
    with time_machine.travel(clock.utc_now() + shift, tick=True):
        login(client, user.email)
        url = f"/documents/worksheet/rp3a.pdf?participant={person.id}"
        first = client.get(url)
        assert first.status_code == 200 and first.data.startswith(b"%PDF")
        again = client.get(url)
        assert again.status_code == 200 and again.data == first.data
    assert renders[0] == 1, "the file just written is not taken for expired: the repeat comes from the cache"
    assert list(document_cache.folder.glob("personal/??/*.pdf")), "the personal file was kept"


def test_a_cached_file_deleted_between_look_up_and_read_is_rendered_again(
        client, session, make_program, make_group, make_participant, make_user, renders, monkeypatch):
    program = make_program()
    person = make_participant(program, make_group(program))
    login(client, make_user("facilitator", program).email)
    urls = ["/documents/worksheet/rp3b.pdf", f"/documents/worksheet/rp3b.pdf?participant={person.id}"]
    for url in urls:
        assert client.get(url).status_code == 200
    assert renders[0] == 2
    real_get = service.DocumentCache.get

    def found_then_pruned(self, key):
        path = real_get(self, key)
        if path is not None:
            path.unlink()  # another worker's pruning, right after the look-up
        return path

    monkeypatch.setattr(service.DocumentCache, "get", found_then_pruned)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert renders[0] == 4, "each vanished file was rendered again"


def test_a_file_just_written_is_fresh_whatever_the_process_clock_says(tmp_path):
    cache = service.DocumentCache(tmp_path, personal_seconds=3600)
    key = "dd" + "0" * 62
    with time_machine.travel(clock.utc_now() + YEARS_20):
        path = cache.put(key, b"%PDF named", personal=True)
        assert cache.read(key) == b"%PDF named" and path.exists()
    hours_ago = cache.now() - 7200  # the file system's clock, which ages the files
    os.utime(path, (hours_ago, hours_ago))
    assert cache.read(key) is None and not path.exists(), "expired by file time: deleted on sight"
