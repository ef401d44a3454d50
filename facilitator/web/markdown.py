"""Markdown from curriculum text (written by directors: untrusted) to safe HTML."""

from __future__ import annotations

from functools import lru_cache

import markdown
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "b", "i", "h2", "h3", "h4", "table", "thead", "tbody",
                "tr", "th", "td", "blockquote", "code", "br", "hr"}


def markdown_html(text: str, drop_heading: str = "") -> str:
    """Markdown to raw HTML (tables and lists), without a leading heading of that text. Not safe
    to show as it is: every caller sanitizes with its own allow-list (screen or print)."""
    text = text or ""
    first, _, rest = text.lstrip().partition("\n")
    if drop_heading and first.lstrip("#").strip().lower() == drop_heading.lower():
        text = rest
    return markdown.markdown(text, extensions=["tables", "sane_lists"])


@lru_cache(maxsize=1024)  # curriculum texts repeat on every meeting page; the result is an immutable string
def render_markdown(text: str, drop_heading: str = "") -> Markup:
    """Markdown to HTML with only plain formatting tags kept: no links, images, scripts or styles.

    `drop_heading` removes a leading heading with that text (the page already shows it).
    """
    html = markdown_html(text, drop_heading)
    # No <a> or <img>: curriculum text must not make a reader's browser (or the PDF engine) fetch anything.
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, attributes={"th": {"scope"}}, url_schemes=set()))
