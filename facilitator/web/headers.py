"""Security headers on every response: a strict Content-Security-Policy (scripts and styles only from
the app's own files, no framing), no MIME sniffing, no referrer outside the site, HSTS behind HTTPS,
and no caching of pages that may carry participant data.

The app's static files are linked with a version (?v= the first digits of the file's SHA-256): a
browser keeps such a URL for a year without asking again, and a changed file gets a new URL. Without
it a browser revalidates every stylesheet and script on every page view (a 304 each: two or three
requests more per page for the server to answer)."""

from __future__ import annotations

import hashlib
import os

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HSTS = "max-age=31536000; includeSubDomains"
# The app's own unchanging files may be cached; every other answer may hold health data.
CACHEABLE_ENDPOINTS = frozenset({"static", "curricula.preview_css"})
STATIC_FOREVER = "public, max-age=31536000, immutable"  # a versioned URL never changes content
_VERSIONS: dict[tuple, str] = {}  # (path, modified, size) -> version: a file changed on disk is hashed again


def static_version(filename: str) -> str | None:
    """The version of a static file (12 hex digits of its SHA-256), or None if there is no such file."""
    path = safe_join(current_app.static_folder or "", filename)
    try:
        found = os.stat(path) if path else None
    except OSError:
        found = None
    if found is None:
        return None
    key = (path, found.st_mtime_ns, found.st_size)
    version = _VERSIONS.get(key)
    if version is None:
        with open(path, "rb") as file:
            version = _VERSIONS[key] = hashlib.sha256(file.read()).hexdigest()[:12]
    return version


def _versioned_static(endpoint: str, values: dict) -> None:
    """url_for("static", filename=...) adds the file's version."""
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = static_version(values["filename"])
        if version is not None:
            values["v"] = version


def add_security_headers(response: Response) -> Response:
    """Set the security headers; a header a view set on purpose (a cache time, a policy) is kept."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    if "Cache-Control" not in headers and request.endpoint not in CACHEABLE_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
    elif (request.endpoint == "static" and response.status_code in (200, 304) and request.args.get("v")
          and request.args["v"] == static_version((request.view_args or {}).get("filename", ""))):
        headers["Cache-Control"] = STATIC_FOREVER  # an old version's URL is revalidated as before
    return response


def init_app(app: Flask) -> None:
    """Register the headers on every response, error pages included."""
    app.after_request(add_security_headers)
    app.url_defaults(_versioned_static)
