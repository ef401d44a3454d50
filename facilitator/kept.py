"""A small thread-safe least-recently-used store: what a process keeps of derived data and HTML
(data_revision's memo, web.fragments, web.remembered_pages), shared by gunicorn's threads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

MISSING = object()


class Kept:
    """At most `size` values by key; the least recently used goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The value kept for the key, or MISSING."""
        with self._lock:
            found = self._values.get(key, MISSING)
            if found is not MISSING:
                self._values.move_to_end(key)
            return found

    def put(self, key: Hashable, value: Any) -> None:
        """Keep a value, letting the least recently used go beyond the size."""
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)

    def clear(self) -> None:
        """Keep nothing."""
        with self._lock:
            self._values.clear()
