"""Security headers on every response: a strict Content-Security-Policy (scripts and styles only from
the app's own files, no framing), no MIME sniffing, no referrer outside the site, HSTS behind HTTPS,
and no caching of pages that may carry participant data."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

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
    return response


def init_app(app: Flask) -> None:
    """Register the headers on every response, error pages included."""
    app.after_request(add_security_headers)
