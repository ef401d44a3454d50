"""The read-only JSON API: progress and plan, group calendars, meeting rosters."""
