"""Configuration from environment variables, with safe defaults and a test configuration."""

from __future__ import annotations

import os
from pathlib import Path


class ConfigError(RuntimeError):
    """The configuration cannot be used as it is (for example, no SECRET_KEY in production)."""


def default_database_url(instance_path: str) -> str:
    """SQLite in the instance folder: the embedded default."""
    return "sqlite:///" + str(Path(instance_path) / "facilitator.sqlite")


class Config:
    """Production-safe defaults; values come from the environment at app creation."""

    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    # hide_parameters: a database error in the log names the statement, never its values (health data).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600  # a facilitator's shift; the form stays usable all evening
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # set FACILITATOR_SECURE_COOKIES=1 behind HTTPS
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024  # curriculum zips and forms; nothing larger is expected
    PASSWORD_HASH_COST = "standard"  # argon2id, 64 MiB; "fast" only for the test suite
    # Per-address limit on failed sign-ins (Flask-Limiter). The storage is named even when it is the
    # in-process default: with several workers or machines set RATELIMIT_STORAGE_URI=redis://host:6379/0
    # so that they share one count.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_SIGN_IN = "30 per 15 minutes"
    # "Forgot password?": requests per address, and reset emails per account (a stranger who knows
    # someone's address must not be able to fill their inbox).
    RATELIMIT_PASSWORD_RESET = "10 per hour"
    RESET_EMAILS_PER_HOUR = 3
    # The task queue (queue/): a SQLite file in the instance folder, or with QUEUE_URL (or REDIS_URL)
    # redis://host:6379/0 a Redis shared by every machine; REDIS_URL also becomes the limits' storage.
    QUEUE_URL: str | None = None
    REDIS_URL: str | None = None
    # How often (seconds) an open page asks whether its session is still alive (the ask is not
    # activity): a deactivated person's open page goes to the sign-in page within a minute instead
    # of staying on screen until their next click. 0: ask only when the idle warning is due.
    SESSION_STATUS_POLL_SECONDS = 60
    # Set-password links: the address they start with (the CLI prints them, without a request to
    # take the host from) and how many hours they work.
    APP_BASE_URL = "http://127.0.0.1:5000"
    ACCOUNT_LINK_HOURS = 72
    MAIL_SERVER: str | None = None  # links are emailed only when this is set
    LOG_FORMAT = "text"  # "json": one JSON object per line with the request id (web/logging.py)
    PROXY_FIX = False  # behind a reverse proxy: trust its X-Forwarded-For/-Proto/-Host (one hop)

    @classmethod
    def from_environment(cls, instance_path: str, debug: bool) -> dict:
        """Read the environment; refuse to run without a SECRET_KEY outside debug."""
        values = {
            "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or default_database_url(instance_path),
            "SECRET_KEY": os.environ.get("SECRET_KEY"),
        }
        for name in ("QUEUE_URL", "REDIS_URL"):
            if os.environ.get(name):
                values[name] = os.environ[name]
        if os.environ.get("RATELIMIT_STORAGE_URI"):
            values["RATELIMIT_STORAGE_URI"] = os.environ["RATELIMIT_STORAGE_URI"]
        elif values.get("REDIS_URL", "").startswith(("redis://", "rediss://")):
            values["RATELIMIT_STORAGE_URI"] = values["REDIS_URL"]  # one shared Redis for queue and limits
        if os.environ.get("DOCUMENT_CACHE_DIR"):
            values["DOCUMENT_CACHE_DIR"] = os.environ["DOCUMENT_CACHE_DIR"]
        for name in ("DOCUMENT_CACHE_MAX_BYTES", "DOCUMENT_PERSONAL_SECONDS"):
            if os.environ.get(name):
                values[name] = _whole_number(name, os.environ[name])
        values.update(_account_settings())
        if os.environ.get("LOG_FORMAT"):
            values["LOG_FORMAT"] = os.environ["LOG_FORMAT"].lower()
            if values["LOG_FORMAT"] not in ("text", "json"):
                raise ConfigError(f"LOG_FORMAT must be text or json, not {os.environ['LOG_FORMAT']!r}")
        values["PROXY_FIX"] = os.environ.get("PROXY_FIX") == "1"
        if os.environ.get("FACILITATOR_SECURE_COOKIES") == "1":
            values["SESSION_COOKIE_SECURE"] = values["REMEMBER_COOKIE_SECURE"] = True
        if not values["SECRET_KEY"]:
            if not debug:
                raise ConfigError(
                    "SECRET_KEY is not set. Set it to a long random value, e.g. "
                    "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
                )
            values["SECRET_KEY"] = "development-only-key"
        url = values["SQLALCHEMY_DATABASE_URI"]
        if url.startswith("postgres://"):  # the scheme some hosts hand out; SQLAlchemy wants postgresql://
            values["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url[len("postgres://"):]
        elif url.startswith("postgresql://"):
            values["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url[len("postgresql://"):]
        return values


def _account_settings() -> dict:
    """Set-password links and outgoing mail (Flask-Mailman's MAIL_* names) from the environment."""
    values: dict = {}
    for name in ("APP_BASE_URL", "MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER"):
        if os.environ.get(name):
            values[name] = os.environ[name]
    for name in ("ACCOUNT_LINK_HOURS", "MAIL_PORT"):
        if os.environ.get(name):
            values[name] = _whole_number(name, os.environ[name])
    if os.environ.get("MAIL_USE_TLS"):
        values["MAIL_USE_TLS"] = os.environ["MAIL_USE_TLS"].lower() in ("1", "true", "yes", "on")
    return values


def _whole_number(name: str, text: str) -> int:
    """A positive whole number from an environment variable, or a ConfigError naming it."""
    if not text.strip().isdigit() or int(text) <= 0:
        raise ConfigError(f"{name} must be a whole number greater than 0, not {text!r}")
    return int(text)


class TestConfig(Config):
    """For the test suite: a throwaway database, CSRF on (tests fetch tokens like a browser)."""

    TESTING = True
    SECRET_KEY = "test-secret-key"
    PASSWORD_HASH_COST = "fast"
    SERVER_NAME = "localhost"
