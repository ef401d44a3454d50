"""The sandboxed fetcher: curriculum text is untrusted, so a PDF loads nothing but data: URLs and the
app's own static files, and says so in the log without the URL's path."""

from __future__ import annotations

import base64
import dataclasses
import http.server
import logging
import threading

import pytest

from facilitator.documents import builders, catalog, service

from .conftest import text

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8ffff3f0005fe02fea7d6a3d90000000049454e44ae426082")).decode()


@pytest.fixture
def web_server():
    """A real HTTP server on 127.0.0.1 that records every request it gets."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def _refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "facilitator.documents" and "refused" in r.getMessage()]


def _app_log(caplog) -> str:
    """What reaches the app's log. pytest also listens to non-propagating loggers; WeasyPrint's
    progress logger (which names every URL) is made non-propagating, so it never gets there."""
    assert logging.getLogger("weasyprint.progress").propagate is False
    return " ".join(r.getMessage() for r in caplog.records if r.name != "weasyprint.progress")


def test_curriculum_images_from_files_or_the_network_are_never_fetched(session, matrix16, web_server, caplog):
    base, hits = web_server
    module = catalog.lookup(catalog.domain_of(matrix16), "RP 3")[0]
    hostile = dataclasses.replace(module, key_points=(
        module.key_points + f'\n\n<img src="file:///etc/passwd" alt="a"> <img src="{base}/secret.png?who=x" alt="b">'
        f'\n\n<script>document.write("x")</script><a href="javascript:alert(1)">link</a>'))
    html = builders.guide_html(hostile, heading="Test", track_name="Relapse Prevention", lang="en")
    assert "file:///etc/passwd" not in html, "nh3 drops a file: src"
    assert "<script" not in html and "javascript:" not in html
    with caplog.at_level(logging.INFO):
        pdf = service.render(service.RenderInput(html))
    assert hits == [], "nothing was requested from the network"
    assert _refusals(caplog) == ["document fetcher refused a http URL (host: 127.0.0.1)"]
    logged = _app_log(caplog)
    assert "secret.png" not in logged and "who=x" not in logged
    assert "Drift is not a decision" in text(pdf)


def test_the_fetcher_refuses_files_other_schemes_and_any_address(web_server, caplog):
    base, hits = web_server
    html = f"""<html><head><link rel="stylesheet" href="file:///etc/passwd">
      <link rel="stylesheet" href="{base}/style.css"></head><body>
      <img src="file:///etc/passwd"><img src="ftp://files.example.org/a.png">
      <div style="background: url({base}/bg.png); height: 20px"></div>
      <img src="app-static:/../__init__.py"><p>still rendered</p></body></html>"""
    with caplog.at_level(logging.INFO):
        pdf = service.render(service.RenderInput(html))
    assert hits == []
    assert sorted(_refusals(caplog)) == sorted([
        "document fetcher refused a file URL (host: none)",
        "document fetcher refused a file URL (host: none)",
        "document fetcher refused a http URL (host: 127.0.0.1)",
        "document fetcher refused a http URL (host: 127.0.0.1)",
        "document fetcher refused a ftp URL (host: files.example.org)",
        "document fetcher refused a app-static URL (host: none)",
    ])
    assert "passwd" not in _app_log(caplog) and "bg.png" not in _app_log(caplog)
    assert "still rendered" in text(pdf) and "root:" not in text(pdf)


def test_data_urls_and_the_apps_static_files_are_allowed(caplog):
    html = (f'<html><head><link rel="stylesheet" href="app-static:/app.css"></head>'
            f'<body><img src="data:image/png;base64,{PNG}" alt="dot"><p>ok</p></body></html>')
    with caplog.at_level(logging.INFO):
        pdf = service.render(service.RenderInput(html))
    assert _refusals(caplog) == []
    assert "ok" in text(pdf)

