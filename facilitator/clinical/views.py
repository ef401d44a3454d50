"""Web views of the clinical area (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("clinical", __name__)
