"""Curricula and their immutable published versions: tracks, modules, worksheets."""
