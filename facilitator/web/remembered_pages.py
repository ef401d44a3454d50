"""Whole staff pages kept while nothing they show has changed.

A core page (today, a meeting, a participant, a group, the participants list) is a pure function of
the committed data, the person looking, their language, the program's date and the address. When
those are the same as for a page this process rendered before, its title and main part are reused:

    return remembered_page("today", build)   # build() renders the page as before

The key holds the user, the language, today and the full path, so a page is never shown to anyone
else. Its build notes what it read (facilitator.data_revision.noting: each table, and only some
people's attendance where the build says so), with the numbers those had; the page is reused while
they all still have them, so it is never shown stale, and a person's page outlives the attendance
saved for others. Around the kept part everything is rendered for this request
as usual: the header, flashed messages (a page with messages waiting is not reused), the session
timer and the footer. Also per request:

- the audit events the page recorded when it was built are recorded again, now, for this request;
- the CSRF token in the kept forms is replaced by this request's;
- a live section, marked in the template with <!--live:NAME--> ... <!--/live:NAME-->, is rendered
  afresh (the participant page's "who opened this record", which this very request changes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from flask import g, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from .. import clock, data_revision
from ..audit import services as audit
from ..kept import MISSING, Kept
from .i18n import current_language

PAGES_KEPT = 96  # a page's main part is 20-80 KB: a few MB per process
MAIN_OPEN, MAIN_CLOSE = '<main id="main" tabindex="-1">', "</main>"
TITLE_OPEN, TITLE_CLOSE = "<title>", " · facilitator</title>"
SHELL = "_remembered_page.html"


@dataclass(frozen=True)
class KeptPage:
    """What is reused of a page: its title, the inside of <main>, the CSRF token it was rendered with,
    and the audit events it recorded (without their time and address); what it was built from, and
    those names' numbers then."""

    title: str
    main: str
    token: str
    events: tuple[Mapping[str, Any], ...]
    reads: tuple[str, ...] = ()
    stamp: tuple | None = None


_KEPT = Kept(PAGES_KEPT)


def remembered_page(kind: str, build: Callable[[], str],
                    live: Mapping[str, Callable[[], str]] | None = None) -> str:
    """The page build() renders, or the one this process rendered before for the same data, person,
    language, day and address, with its per-request parts made afresh. `live`: the renderers of the
    page's live sections, called after this request's audit events are recorded."""
    key = _key(kind)
    if key is None:
        return build()
    found = _KEPT.get(key)
    if found is not MISSING and data_revision.stamp(found.reads) == found.stamp:
        return _serve(found, live or {})
    before = len(audit.pending_events())
    with data_revision.noting() as reads:
        html = build()
    kept = _kept(html, audit.pending_events()[before:])
    names = tuple(sorted(reads.names))
    stamp = data_revision.stamp(names) if reads.complete else None  # the numbers read before the data
    if kept is not None and stamp is not None:
        _KEPT.put(key, replace(kept, reads=names, stamp=stamp))
    return html


def forget() -> None:
    """Empty this process's kept pages (benchmarks measuring the work of building them)."""
    _KEPT.clear()


def _key(kind: str) -> tuple | None:
    # Only a plain GET by a signed-in person with no messages waiting, at a known data revision.
    if request.method != "GET" or session.get("_flashes") or not current_user.is_authenticated:
        return None
    if data_revision.current() is None:
        return None
    program = current_user.program
    return (kind, current_user.id, current_language(), clock.today(program.timezone if program else None),
            request.full_path)


def _kept(html: str, events: list[dict[str, Any]]) -> KeptPage | None:
    """The reusable parts of a rendered page (None if it does not have the expected frame)."""
    start, end = html.find(MAIN_OPEN), html.rfind(MAIN_CLOSE)
    title_start, title_end = html.find(TITLE_OPEN), html.find(TITLE_CLOSE)
    token = g.get("csrf_token") or ""
    if min(start, end, title_start, title_end) < 0 or not token:
        return None
    stored = tuple({k: v for k, v in e.items() if k not in ("at", "remote_addr")} for e in events)
    return KeptPage(html[title_start + len(TITLE_OPEN):title_end], html[start + len(MAIN_OPEN):end], token, stored)


def _serve(kept: KeptPage, live: Mapping[str, Callable[[], str]]) -> str:
    """The kept page in this request's frame, with its audit events recorded again."""
    audit.record_rows(kept.events, remote_addr=request.remote_addr or "")
    shell = render_template(SHELL, kept_title=Markup(kept.title))  # the frame: header, timer, footer
    main = kept.main.replace(kept.token, generate_csrf())
    for name, render in live.items():
        main = _replace_section(main, name, render())
    start, end = shell.find(MAIN_OPEN) + len(MAIN_OPEN), shell.rfind(MAIN_CLOSE)
    return shell[:start] + main + shell[end:]


def _replace_section(main: str, name: str, html: str) -> str:
    opening, closing = f"<!--live:{name}-->", f"<!--/live:{name}-->"
    start, end = main.find(opening), main.find(closing)
    if start < 0 or end < 0:
        return main
    return main[:start + len(opening)] + html + main[end:]
