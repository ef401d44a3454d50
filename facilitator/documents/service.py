"""The one document service: every PDF of the app is rendered here.

Once per process it imports WeasyPrint (lazily: the web app starts without it), builds the font
configuration and parses the print stylesheet. It fetches nothing but data: URLs and the app's own
static files, and keeps finished files in a size-bounded cache (cache.py) under the instance folder,
keyed by a hash of everything that went into them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..web.i18n import TRANSLATIONS
from . import builders, forms
from .cache import DEFAULT_CACHE_BYTES, DEFAULT_PERSONAL_SECONDS, DocumentCache

log = logging.getLogger("facilitator.documents")

PAGE_SIZES = {"letter": "letter", "a4": "A4"}
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
STATIC_SCHEME = "app-static:"  # app-static:/app.css is facilitator/static/app.css, read from disk
STYLESHEET = builders.TEMPLATE_DIR / "print.css"
PDF_VARIANT = "pdf/ua-1"  # every document is tagged (WeasyPrint's PDF/UA-1 support)


class FetchRefused(ValueError):
    """The sandboxed fetcher does not load this URL."""


@dataclass(frozen=True)
class RenderInput:
    """Everything a render needs, as plain picklable data (a worker process receives it)."""

    html: str
    page_size: str = "letter"
    lang: str = "en"
    fillable: bool = False
    # Worksheet documents: the sheets in the body, and one entry per copy (an identity dict, or None
    # for blank Name / Group / Date lines). Each copy's headers and footers are a frame document.
    sheets: tuple[builders.Sheet, ...] = ()
    copies: tuple[dict[str, str] | None, ...] = (None,)
    heading: str = ""
    notice: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    # A document's own stylesheets, file names in templates/documents/ (parsed once per process).
    stylesheets: tuple[str, ...] = ()
    # A packet: documents laid out one by one and merged into one Document (one font subset).
    parts: tuple[RenderInput, ...] = ()
    # The PDF's /Title when the HTML's <title> does not name the document (a packet's is its guide's).
    title: str = ""
    # The frame's and the page counter's words in `lang`: filled when the input is made (in the app),
    # so the process that renders (a worker) needs no locale.
    words: builders.FrameWords | None = None

    def __post_init__(self) -> None:
        if self.words is None:
            object.__setattr__(self, "words", builders.frame_words(self.lang))


# --- the engine: WeasyPrint, fonts, stylesheet, fetcher (once per process) --------------------

class _Engine:
    def __init__(self) -> None:
        # Progress records name every URL loaded and say nothing an operator needs; keep them out
        # of the app's log (render() listens to them directly when it reports progress).
        logging.getLogger("weasyprint.progress").propagate = False
        import weasyprint  # ~0.8 s; only processes that render pay it
        from weasyprint.text.fonts import FontConfiguration

        self.weasyprint = weasyprint
        logging.getLogger("weasyprint").addFilter(_drop_known_noise)
        self.fonts = FontConfiguration()
        self.fetcher = _fetcher_class(weasyprint)(timeout=5)
        self.stylesheet = weasyprint.CSS(string=STYLESHEET.read_text(encoding="utf-8"), font_config=self.fonts,
                                         url_fetcher=self.fetcher)
        self.page_sheets: dict[tuple[str, str], Any] = {}
        self.extra_sheets: dict[str, Any] = {}

    def extra_sheet(self, name: str) -> Any:
        """A document's own stylesheet from templates/documents/ (parsed once per process)."""
        if name not in self.extra_sheets:
            path = (builders.TEMPLATE_DIR / name).resolve()
            if not path.is_relative_to(builders.TEMPLATE_DIR) or path.suffix != ".css":
                raise ValueError(f"not a document stylesheet: {name}")
            self.extra_sheets[name] = self.weasyprint.CSS(string=path.read_text(encoding="utf-8"),
                                                          font_config=self.fonts, url_fetcher=self.fetcher)
        return self.extra_sheets[name]

    def page_sheet(self, page_size: str, counter: str) -> Any:
        """The one-rule stylesheet with the page size and the page-number wording (parsed once)."""
        if (page_size, counter) not in self.page_sheets:
            rule = f"@page {{ size: {PAGE_SIZES[page_size]}; @bottom-right {{ content: {counter}; }} }}"
            self.page_sheets[page_size, counter] = self.weasyprint.CSS(string=rule, font_config=self.fonts)
        return self.page_sheets[page_size, counter]

    def layout(self, html: str, page_size: str, words: builders.FrameWords | None = None, extra: tuple[str, ...] = (),
               **options: Any):
        """Parse and lay out one HTML string into a WeasyPrint Document."""
        counter = (words or builders.FrameWords()).page_css()
        sheets = [self.stylesheet, self.page_sheet(page_size, counter), *(self.extra_sheet(n) for n in extra)]
        return self.weasyprint.HTML(string=html, url_fetcher=self.fetcher).render(
            font_config=self.fonts, stylesheets=sheets, **options)


_engine: _Engine | None = None
# WeasyPrint shares font and stylesheet objects between renders and is not documented as
# thread-safe; one render at a time per process, parallelism comes from processes.
_render_lock = threading.RLock()


def engine() -> _Engine:
    """The process's engine, built on first use."""
    global _engine
    with _render_lock:
        if _engine is None:
            _engine = _Engine()
        return _engine


def _fetcher_class(weasyprint: Any) -> type:
    """A URLFetcher subclass (the WeasyPrint 70 API) that only serves data: and app-static: URLs."""

    class SandboxedFetcher(weasyprint.URLFetcher):
        def fetch(self, url: str, headers: Any = None):
            if url.lower().startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith(STATIC_SCHEME):
                path = (STATIC_DIR / url[len(STATIC_SCHEME):].lstrip("/")).resolve()
                if path.is_relative_to(STATIC_DIR) and path.is_file():
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return weasyprint.urls.URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})
            parts = urlsplit(url)
            # Scheme and host only: a path or query could carry anything.
            log.warning("document fetcher refused a %s URL (host: %s)", parts.scheme or "relative",
                        parts.hostname or "none")
            raise FetchRefused("only data: URLs and the app's static files are loaded")

    return SandboxedFetcher


def _drop_known_noise(record: logging.LogRecord) -> bool:
    """Keep WeasyPrint's warnings except two that are expected here.

    A refused load is logged with its full URL; our own record (scheme and host only) already says
    what happened. And the frame's running header and footer use string() for the texts of each
    page: it works (they are laid out in margin boxes) but WeasyPrint warns while cascading.
    """
    message = record.getMessage()
    return "FetchRefused" not in message and not _FRAME_STRING_WARNING.search(message)


_FRAME_STRING_WARNING = re.compile(r'"string\((module|sheet|pageno|idname|idgroup|iddate) first\)" is only allowed')


# --- rendering ---------------------------------------------------------------------------------

def render(job: RenderInput, progress: Callable[[int], None] | None = None) -> bytes:
    """Lay out and write one tagged PDF; progress(pages laid out) is called as layout advances."""
    # PDF/UA-1: a structure tree, /Lang from the root's lang attribute, the <title> shown as the
    # window title: screen readers can read every document, not only the fillable ones.
    options: dict[str, Any] = {"pdf_variant": PDF_VARIANT, "pdf_forms": job.fillable or None, **job.options}
    with _render_lock:
        eng = engine()
        if job.parts:
            documents, done = [], 0
            for part in job.parts:
                step = (lambda page, before=done: progress(before + page)) if progress else None
                documents.append(_layout(eng, part, step, options))
                done += len(documents[-1].pages)
            document = documents[0].copy([page for d in documents for page in d.pages])
        else:
            document = _layout(eng, job, progress, options)
        if job.title:
            document.metadata.title = job.title
        if not job.fillable:
            return document.write_pdf(**options)
        with forms.subset_fonts():
            return document.write_pdf(finisher=forms.finish, **options)


def _layout(eng: _Engine, job: RenderInput, progress: Callable[[int], None] | None, options: dict[str, Any]):
    """One document laid out, with its per-copy frames if it shows worksheets."""
    with _progress_to(progress):  # the body's pages; frames are quick and would restart the count
        document = eng.layout(job.html, job.page_size, job.words, job.stylesheets, **options)
    if job.sheets:
        document = _with_frames(eng, document, job)
    return document


def _with_frames(eng: _Engine, body: Any, job: RenderInput) -> Any:
    """The body's pages once per copy, each copy with its own headers and footers, in one Document.

    The body is laid out once. The headers and footers of all copies come from one frame document
    (empty pages whose running header and footer take their texts from per-page strings) whose
    margin boxes replace the body's. Running elements stay out of the body because WeasyPrint lays
    out twice every page that brings new ones. This reaches into WeasyPrint's page boxes (pinned at
    70.0; tests cover it). All pages go into one Document, so the PDF carries one font subset.
    """
    from weasyprint.document import Page
    from weasyprint.formatting_structure.boxes import MarginBox

    pages_of_body = [(page._page_box.page_type.name, sheet)
                     for page, sheet in zip(body.pages, sheets_by_page(body, job.sheets), strict=True)]
    html = builders.frame_html(pages_of_body, heading=job.heading, lang=job.lang, words=job.words,
                               copies=job.copies, notice=job.notice, with_identity=not job.fillable)
    frame = eng.layout(html, job.page_size, job.words)
    if len(frame.pages) != len(body.pages) * len(job.copies):
        raise RuntimeError(f"frame has {len(frame.pages)} pages for {len(job.copies)} copies of {len(body.pages)}")
    pages = []
    for n, frame_page in enumerate(frame.pages):
        box = body.pages[n % len(body.pages)]._page_box
        children = [c for c in box.children if not isinstance(c, MarginBox)]
        children += [c for c in frame_page._page_box.children if isinstance(c, MarginBox)]
        pages.append(Page(box.copy_with_children(children)))
    return body.copy(pages)


def sheets_by_page(document: Any, sheets: tuple[builders.Sheet, ...]) -> list[builders.Sheet | None]:
    """The worksheet each page of a laid-out document shows (None before the first, e.g. a cover)."""
    by_anchor = {s.anchor: s for s in sheets}
    current, out = None, []
    for page in document.pages:
        for anchor in page.anchors:
            if anchor in by_anchor:
                current = by_anchor[anchor]
                break
        out.append(current)
    return out


class _progress_to:
    """Forward WeasyPrint's "Creating layout - Page N" log records to a callback."""

    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self.callback = callback
        self.handler: logging.Handler | None = None

    def __enter__(self) -> None:
        if self.callback is None:
            return
        callback = self.callback

        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if record.msg == "Step 5 - Creating layout - Page %d":  # not "(up-to-date)" pages
                    callback(int(record.args[0]))

        self.handler = Handler()
        logger = logging.getLogger("weasyprint.progress")
        self.saved = (logger.level, logger.propagate)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # progress is for the callback, not the app's log
        logger.addHandler(self.handler)

    def __exit__(self, *exc: object) -> None:
        if self.handler is not None:
            logger = logging.getLogger("weasyprint.progress")
            logger.removeHandler(self.handler)
            logger.setLevel(self.saved[0])
            logger.propagate = self.saved[1]


# --- the cache ---------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def fingerprint() -> str:
    """A hash of the templates, the stylesheet, this package's code and the compiled translations (the
    documents' words in other languages): a change makes new keys."""
    digest = hashlib.sha256()
    translations = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.mo"))
    for path in [*builders.template_files(), *sorted(Path(__file__).parent.glob("*.py")), *translations]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(kind: str, inputs: dict[str, Any]) -> str:
    """The key of a document: a hash of its kind, the code version and every input shown or used."""
    payload = json.dumps({"kind": kind, "code": fingerprint(), "inputs": inputs}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def cache_for(app: Any) -> DocumentCache:
    """The app's document cache: DOCUMENT_CACHE_DIR, or instance/document-cache/."""
    folder = app.config.get("DOCUMENT_CACHE_DIR") or os.path.join(app.instance_path, "document-cache")
    return DocumentCache(folder, int(app.config.get("DOCUMENT_CACHE_MAX_BYTES", DEFAULT_CACHE_BYTES)),
                         int(app.config.get("DOCUMENT_PERSONAL_SECONDS", DEFAULT_PERSONAL_SECONDS)))


def produce_bytes(key: str, build: Callable[[], RenderInput], cache: DocumentCache,
                  personal: bool = False) -> tuple[bytes, bool]:
    """The document for key, from the cache or rendered from build() on a miss; (bytes, came from cache).

    A file deleted by another process between look-up and read is a miss: it costs a render, never
    an error. The bytes of a render are returned as rendered, not read back from the cache."""
    data = cache.read(key)
    if data is not None:
        return data, True
    started = time.perf_counter()
    data = render(build())
    cache.put(key, data, personal)
    log.info("rendered document %s in %.2f s", key[:12], time.perf_counter() - started)
    return data, False


def produce(key: str, build: Callable[[], RenderInput], cache: DocumentCache,
            personal: bool = False) -> tuple[Path, bool]:
    """The cached file for key, rendering it from build() on a miss; (path, came from cache).

    For a file to read at once (a response), produce_bytes() never loses the file to a pruning."""
    hit = cache.get(key)
    if hit is not None:
        return hit, True
    started = time.perf_counter()
    path = cache.put(key, render(build()), personal)
    log.info("rendered document %s in %.2f s", key[:12], time.perf_counter() - started)
    return path, False
