"""The one-page set-password handout: the program's name and phone, the link in print and as a QR
code (segno), and when it expires. Rendered by the document service and never cached: the link is a
credential, so the PDF goes straight to the person who asked for it and is kept nowhere."""

from __future__ import annotations

import segno

from ..documents.builders import _env
from ..documents.catalog import page_size_for
from ..documents.service import RenderInput, render
from ..programs.models import Program
from ..web.i18n import current_language
from .invites import Link
from .mail import local_time

QR_SCALE = 10  # pixels per module: printed at 2.4 in, about 150 pixels an inch, without smoothing


def qr_data_uri(url: str) -> str:
    """The link as a QR code, a PNG data: URL (the document fetcher loads nothing else)."""
    return segno.make(url, error="m").png_data_uri(scale=QR_SCALE, border=4)


def handout_html(link: Link, program: Program) -> str:
    """The handout as print HTML. A participant's names them by preferred name only, with the 42 CFR
    2.32 notice: it says they are a patient of the program."""
    user = link.user
    return _env.get_template("account_handout.html").render(
        user=user, link=link, program=program, qr=qr_data_uri(link.url),
        expires=local_time(link.expires_at, program), participant=user.role == "participant")


def handout_pdf(link: Link, program: Program) -> bytes:
    """The handout as a one-page tagged PDF."""
    html = handout_html(link, program)
    return render(RenderInput(html, page_size_for(program, None), current_language(), stylesheets=("account_handout.css",)))
