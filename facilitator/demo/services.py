"""Build the demo program: two groups at different rotation points, 25 participants, history."""

from __future__ import annotations

DEMO_PASSWORD = "demo-password-2026"
DEMO_LOGINS = (
    ("director", "director@demo.example", DEMO_PASSWORD),
    ("facilitator", "facilitator@demo.example", DEMO_PASSWORD),
)


def build_demo() -> bool:
    """Create the demo program once; return False if it already exists."""
    raise NotImplementedError("demo data arrives with the sequencer")
