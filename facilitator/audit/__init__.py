"""The audit trail: every read and change of participant data."""
