"""A located problem in a curriculum or a scenario, shared by the loaders and validators."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a curriculum, located as precisely as possible."""

    file: str
    message: str
    line: int | None = None
    field: str = ""
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        what = f" [{self.field}]" if self.field else ""
        return f"{where}:{what} {self.severity}: {self.message}"
