"""Meetings as facilitators run them: roster, attendance, note, fidelity, held or cancelled."""
