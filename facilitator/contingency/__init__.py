"""Contingency management: incentives for negative tests (and attendance), as its own area."""
