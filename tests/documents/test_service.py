"""The service itself: WeasyPrint stays out of the app until a render, and the cache stays bounded."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from facilitator.documents import service


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
        os.utime(cache.put(key, b"x" * 1000), (time.time() - age, time.time() - age))
    assert cache.get(keys[0]) is not None  # used just now: the oldest is now keys[1]
    cache.put(keys[3], b"x" * 1000)  # 4000 bytes > 3500: one must go
    assert [cache.get(k) is not None for k in keys] == [True, False, True, True]
