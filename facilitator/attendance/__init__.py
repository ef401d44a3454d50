"""Attendance of participants and family guests at meetings."""
