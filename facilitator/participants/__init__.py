"""Participants and their enrollments (history rows, never overwritten)."""
