"""The document cache: finished PDFs on disk, keyed by a hash of everything that went into them.

Losing a file costs a render, never a request: readers take bytes (read()), and a file another
process deleted between look-up and read is a miss.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_CACHE_BYTES = 512 * 1024 * 1024
# Documents that carry participant data are health records: kept long enough for a reprint the
# same day, then deleted (the rest of the cache is only bounded by size).
DEFAULT_PERSONAL_SECONDS = 12 * 3600
CLOCK_FILE = ".clock"  # the cache's clock: touched to learn the file system's "now"


class DocumentCache:
    """Finished PDFs on disk, least recently used dropped first once the folder passes max_bytes.

    Documents with participant data live apart (personal/) and are deleted personal_seconds after
    they were rendered, however often they are read. Ages compare file times with file times: "now"
    is the modification time of a file the cache touches, as the file system stamps it. The
    process's clock may be frozen (tests) or faked (faketime), and a shared folder has its own
    clock; none of them can make a file just written look expired."""

    def __init__(self, folder: str | Path, max_bytes: int = DEFAULT_CACHE_BYTES,
                 personal_seconds: int = DEFAULT_PERSONAL_SECONDS) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.personal_seconds = personal_seconds

    def path(self, key: str, personal: bool = False) -> Path:
        """Where the document with this key lives (it may not exist)."""
        return self.folder / ("personal" if personal else "") / key[:2] / f"{key}.pdf"

    def now(self) -> float:
        """The file system's current time, on the scale of file modification times."""
        marker = self.folder / CLOCK_FILE
        try:
            os.utime(marker)  # no times given: the file system stamps its own now
        except FileNotFoundError:
            self.folder.mkdir(parents=True, exist_ok=True)
            marker.touch()
        return marker.stat().st_mtime

    def get(self, key: str) -> Path | None:
        """The cached file (a shared one marked as just used); None on a miss or an expired personal file.

        The file may still be deleted by another process before it is read: read() copes with that."""
        shared = self.path(key)
        try:
            os.utime(shared)
            return shared
        except FileNotFoundError:
            pass
        personal = self.path(key, personal=True)
        try:
            written = personal.stat().st_mtime
        except FileNotFoundError:
            return None
        if self.now() - written < self.personal_seconds:
            return personal
        personal.unlink(missing_ok=True)
        return None

    def read(self, key: str) -> bytes | None:
        """The cached document's bytes; None on a miss, also when the file went between look-up and read."""
        path = self.get(key)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except FileNotFoundError:  # another worker pruned it: a miss, so a render
            return None

    def put(self, key: str, data: bytes, personal: bool = False) -> Path:
        """Store a document atomically (readers never see half a file) and keep the cache bounded."""
        path = self.path(key, personal)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as tmp:
            tmp.write(data)
        os.chmod(tmp.name, 0o600)  # health data: readable by the app's user only
        os.replace(tmp.name, path)
        self.prune(keep=path)
        return path

    def prune(self, keep: Path | None = None) -> None:
        """Delete expired personal files, then least recently used files until under the size bound."""
        now = self.now()
        self._delete_older(self.folder.glob("personal/??/*.pdf"), now - self.personal_seconds, keep)
        files = []
        for path in [*self.folder.glob("??/*.pdf"), *self.folder.glob("personal/??/*.pdf")]:
            try:
                stat = path.stat()
            except FileNotFoundError:  # another worker pruned it
                continue
            files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= size
        # Job states and their lock files, long finished.
        self._delete_older(self.folder.glob("jobs/*.*"), now - 7 * 86400, keep)

    @staticmethod
    def _delete_older(paths: Any, before: float, keep: Path | None) -> None:
        for path in paths:
            try:
                if path != keep and path.stat().st_mtime < before:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                continue
