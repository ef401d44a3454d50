"""facilitator: curriculum sequencing, completion tracking and printable worksheets for IOP programs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from .config import Config

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: configuration, extensions, blueprints. No I/O beyond reading settings."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("FACILITATOR_INSTANCE", str(ROOT / "instance")),
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_object(Config)
    if test_config is None:
        app.config.update(Config.from_environment(app.instance_path, debug=app.debug or _debug_requested()))
    else:
        app.config.update(test_config)

    from . import models  # noqa: F401  (registers every table on the metadata)
    from .web import logging as request_logging

    request_logging.init_app(app)  # request ids and LOG_FORMAT; first, so its after_request runs last
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # One proxy in front (nginx): the client's address and https come from its X-Forwarded-* headers.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)  # type: ignore[method-assign]
    from .extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    from . import db_setup

    db_setup.init_app(app)
    from . import data_revision

    data_revision.init_app(app)  # derived figures are reused until a commit changes the data
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)  # per-address sign-in limit; storage from RATELIMIT_STORAGE_URI

    from .api import views as api_views
    from .auth import password_views, staff_views
    from .auth import views as auth_views
    from .auth.account_views import bp as account_bp
    from .clinical import views as clinical_views
    from .curricula import views as curriculum_views
    from .documents import views as document_views
    from .groups import views as group_views
    from .meetings import views as meeting_views
    from .participants import views as participant_views
    from .planning import views as planning_views
    from .programs import views as program_views
    from .reports import views as report_views
    from .web import errors
    from .web import forms as web_forms
    from .web import views as web_views

    for blueprint in (auth_views.bp, account_bp, web_views.bp, meeting_views.bp, group_views.bp, participant_views.bp,
                      clinical_views.bp, api_views.bp, document_views.bp, report_views.bp, curriculum_views.bp,
                      planning_views.bp, program_views.bp, staff_views.bp, password_views.bp):
        app.register_blueprint(blueprint)
    from .audit import views as audit_views

    app.register_blueprint(audit_views.bp)  # /audit: the trail for directors
    from .contingency import program_views as cm_program_views
    from .contingency import views as cm_views

    app.register_blueprint(cm_views.bp)  # a participant's incentives: draws, prizes, vouchers
    app.register_blueprint(cm_program_views.bp)  # the program's incentives: settings, cabinet, budget, reports
    from .portal import views as portal_views

    app.register_blueprint(portal_views.bp)  # a participant's calendar feed and records download
    from .workbook import views as workbook_views

    app.register_blueprint(workbook_views.bp)  # a participant's worksheets on screen and their review
    errors.init_app(app)
    from .web import headers

    headers.init_app(app)  # CSP, no framing, nosniff, referrer, HSTS behind HTTPS, no-store
    from .audit import services as audit_services

    audit_services.init_app(app)  # a read request's audit is written before its response leaves
    web_forms.init_app(app)  # no control characters in any address or JSON body (forms: web.forms.AppForm)
    from .web import i18n

    i18n.init_app(app)  # English and Spanish: the request's language, dates in it, the switch
    from .web import fragments

    fragments.init_app(app)  # costly pure pieces of HTML kept by the values they show
    from .web.markdown import render_markdown

    app.jinja_env.filters["markdown"] = render_markdown
    return app


def _debug_requested() -> bool:
    return os.environ.get("FLASK_DEBUG", "") in ("1", "true", "True")
