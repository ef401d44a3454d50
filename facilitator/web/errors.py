"""Error pages; every error rolls the database session back so no half-change is kept."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..extensions import db

MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have access to this page."),
    404: _l("There is no such page, or it is not part of your program."),
    405: _l("That action is not allowed here."),
    413: _l("The file is too large."),
    500: _l("Something went wrong on our side. Nothing was saved; please try again."),
}


def _page(code: int, message: str):
    db.session.rollback()
    message = str(message)
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return {"error": message, "status": code}, code
    return render_template("errors/error.html", code=code, message=message), code


def init_app(app: Flask) -> None:
    """Register the handlers on the app."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _page(400, _("This form has expired or was not sent from this site. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # A description set where the error was raised says what to fix; werkzeug's own is generic.
        custom = error.description if error.description != type(error).description else None
        return _page(error.code or 500, custom or MESSAGES.get(error.code or 500, error.description or _("Error")))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _page(500, MESSAGES[500])
