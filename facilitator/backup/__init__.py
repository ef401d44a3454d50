"""Backup and restore of the whole database (`facilitator backup FILE`, `facilitator restore FILE`)."""


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do, and nothing was changed."""
