"""HTML fragments kept by what they show: a template wraps a costly, pure piece in

    {% call remembered_html("progress grid", page.tracks) %}{{ grid(page.tracks) }}{% endcall %}

and its HTML is reused while the same values come again, in the same language. The key is the
values themselves (frozen dataclasses, tuples, dates), not a database state, so a change anywhere
that alters them makes a new key and nothing can be shown stale. Only for pieces that depend on their
key and the language alone: no forms (their CSRF tokens are per session), no current user, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from flask import Flask
from markupsafe import Markup

from ..kept import MISSING, Kept
from .i18n import current_language

FRAGMENTS_KEPT = 256  # a grid is about 30 KB of HTML: at most a few MB per process
_KEPT = Kept(FRAGMENTS_KEPT)


def remembered_html(kind: str, *key: Hashable, caller: Callable[[], str]) -> Markup:
    """The HTML of the call block, from what this process rendered before for the same kind, key and
    language when it can; a key that cannot be hashed renders every time."""
    full = (kind, current_language(), key)
    try:
        hash(full)
    except TypeError:
        return Markup(caller())
    found = _KEPT.get(full)
    if found is not MISSING:
        return found
    html = Markup(caller())
    _KEPT.put(full, html)
    return html


def init_app(app: Flask) -> None:
    """Offer remembered_html to every template."""
    app.jinja_env.globals["remembered_html"] = remembered_html
