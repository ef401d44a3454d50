"""The service itself: WeasyPrint stays out of the app until a render, and the cache stays bounded."""

from __future__ import annotations

import os
import subprocess
import sys

from facilitator.documents import service

from ..conftest import login


def test_the_app_starts_without_importing_weasyprint():
    code = ("import sys; from facilitator import create_app; from facilitator.cli import register_commands; "
            "app = create_app({'SECRET_KEY': 'x', 'SQLALCHEMY_DATABASE_URI': 'sqlite://'}); register_commands(app); "
            "print('weasyprint' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_cache_stays_under_its_size_bound_dropping_the_least_recently_used(tmp_path):
    cache = service.DocumentCache(tmp_path, max_bytes=3500)
    keys = [f"{n:02d}" + "ab" * 31 for n in range(4)]
    for age, key in zip((400, 300, 200), keys, strict=False):
        os.utime(cache.put(key, b"x" * 1000), (cache.now() - age, cache.now() - age))
    assert cache.get(keys[0]) is not None  # used just now: the oldest is now keys[1]
    cache.put(keys[3], b"x" * 1000)  # 4000 bytes > 3500: one must go
    assert [cache.get(k) is not None for k in keys] == [True, False, True, True]


def test_documents_with_participant_data_expire_and_are_readable_by_the_app_only(tmp_path):
    cache = service.DocumentCache(tmp_path, personal_seconds=3600)
    shared, personal = "aa" + "0" * 62, "bb" + "0" * 62
    cache.put(shared, b"%PDF blank")
    path = cache.put(personal, b"%PDF named", personal=True)
    assert path.parent.parent.name == "personal" and oct(path.stat().st_mode & 0o777) == "0o600"
    assert cache.get(personal) == path
    two_hours_ago = cache.now() - 7200  # the cache's clock is the file system's, not the process's
    os.utime(path, (two_hours_ago, two_hours_ago))
    os.utime(cache.path(shared), (two_hours_ago, two_hours_ago))
    assert cache.get(personal) is None and not path.exists(), "an expired personal file is deleted on sight"
    assert cache.get(shared) is not None, "blank documents are only bounded by size"
    again = cache.put(personal, b"%PDF named", personal=True)
    os.utime(again, (two_hours_ago, two_hours_ago))
    cache.put("cc" + "0" * 62, b"%PDF other")  # every store sweeps expired personal files
    assert not again.exists()


def test_a_personalized_worksheet_is_cached_as_personal(client, session, make_program, make_group,
                                                       make_participant, make_user, document_cache):
    program = make_program()
    person = make_participant(program, make_group(program))
    login(client, make_user("facilitator", program).email)
    assert client.get(f"/documents/worksheet/rp3a.pdf?participant={person.id}").status_code == 200
    assert client.get("/documents/worksheet/rp3b.pdf").status_code == 200
    personal = list(document_cache.folder.glob("personal/??/*.pdf"))
    assert personal and all(p.stat().st_mode & 0o077 == 0 for p in personal)
