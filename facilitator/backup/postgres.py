"""PostgreSQL's own tools for backups: pg_dump in custom format and pg_restore, found for the server's
major version and given the connection through libpq's environment (never a password on a command line)."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

from . import BackupError

# libpq keywords a DATABASE_URL may carry as query options, and the environment variable of each.
_QUERY_TO_ENV = {
    "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
    "dbname": "PGDATABASE", "passfile": "PGPASSFILE", "service": "PGSERVICE", "options": "PGOPTIONS",
    "application_name": "PGAPPNAME", "connect_timeout": "PGCONNECT_TIMEOUT", "sslmode": "PGSSLMODE",
    "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "sslrootcert": "PGSSLROOTCERT", "sslcrl": "PGSSLCRL",
    "gssencmode": "PGGSSENCMODE", "target_session_attrs": "PGTARGETSESSIONATTRS",
    "channel_binding": "PGCHANNELBINDING", "krbsrvname": "PGKRBSRVNAME",
}
# Where Debian/Ubuntu (postgresql-client-NN) and the PGDG RPMs put each major version's tools.
_TOOL_FOLDERS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin")
# The tools never ask for a password on a terminal: a nightly timer gets an error instead of hanging.
NO_PROMPT = "--no-password"


def environment(url: URL) -> dict[str, str]:
    """The process environment plus the connection of `url` as libpq variables (PGPASSWORD included)."""
    env = dict(os.environ)
    for value, name in ((url.host, "PGHOST"), (url.port, "PGPORT"), (url.username, "PGUSER"),
                        (url.password, "PGPASSWORD"), (url.database, "PGDATABASE")):
        if value not in (None, ""):
            env[name] = str(value)
    for key, value in url.query.items():
        if key not in _QUERY_TO_ENV:
            raise BackupError(f"DATABASE_URL has the option {key}, which pg_dump and pg_restore cannot be given; "
                              "remove it or set the matching PG* environment variable instead.")
        env[_QUERY_TO_ENV[key]] = value if isinstance(value, str) else ",".join(value)
    return env


def tool(name: str, server_major: int) -> str:
    """The path of pg_dump or pg_restore for a server of this major version (the same major, or newer)."""
    found: dict[int, str] = {}
    for pattern in _TOOL_FOLDERS:
        for path in glob.glob(f"{pattern}/{name}"):
            major = _major(path)
            if major is not None:
                found.setdefault(major, path)
    on_path = shutil.which(name)
    if on_path:
        major = _major(on_path)
        if major is not None:
            found.setdefault(major, on_path)
    if server_major in found:
        return found[server_major]
    newer = [major for major in found if major > server_major]
    if newer:  # a newer pg_dump reads an older server; an older one refuses a newer server
        return found[min(newer)]
    seen = ", ".join(f"{path} (PostgreSQL {major})" for major, path in sorted(found.items())) or "none"
    raise BackupError(
        f"{name} for PostgreSQL {server_major} was not found (found: {seen}). Install the client tools of the "
        f"server's version, e.g. on Debian or Ubuntu: apt install postgresql-client-{server_major}.")


def _major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


def run(argv: list[str], env: dict[str, str], what: str) -> str:
    """Run a PostgreSQL tool; its error output becomes the message of a BackupError."""
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupError(f"{what} could not be started: {exc}") from exc
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise BackupError(f"{what} failed: " + (" ".join(detail[:3]) if detail else f"exit status {done.returncode}"))
    return done.stdout


def dump(url: URL, server_major: int, snapshot: str, target: Path) -> None:
    """pg_dump the database of `url` in custom format into `target`, as of an exported snapshot."""
    argv = [tool("pg_dump", server_major), NO_PROMPT, "--format=custom", f"--snapshot={snapshot}",
            f"--file={target}"]
    run(argv, environment(url), "pg_dump")


def archive_revision(path: Path, server_major: int) -> str | None:
    """The alembic revision stored in a custom-format archive (None when it holds no alembic_version).

    Raises BackupError when the file is not a readable archive, or is damaged or cut short: every
    entry is read (into /dev/null) before anything is restored."""
    pg_restore = tool("pg_restore", server_major)
    env = dict(os.environ)
    run([pg_restore, "--list", str(path)], env, f"reading {path.name} as a pg_dump archive")
    run([pg_restore, "--file=/dev/null", str(path)], env, f"reading every entry of {path.name}")
    script = run([pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(path)], env,
                 f"reading the schema revision of {path.name}")
    lines = script.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line:
            values = [value for value in lines[i + 1:] if value != ""]
            if values and values[0] != "\\.":
                return values[0].split("\t")[0]
    return None


def restore(url: URL, server_major: int, path: Path) -> None:
    """pg_restore an archive into the (empty) database of `url` in one transaction: all of it, or nothing."""
    # --no-owner/--no-privileges: the clinic's role on the new server need not match the old one.
    # The audit table's append-only trigger refuses UPDATE and DELETE only; the rows arrive by COPY,
    # and pg_dump creates triggers after the data anyway.
    argv = [tool("pg_restore", server_major), NO_PROMPT, "--no-owner", "--no-privileges", "--single-transaction",
            "--exit-on-error", f"--dbname={url.database}", str(path)]
    run(argv, environment(url), "pg_restore")
