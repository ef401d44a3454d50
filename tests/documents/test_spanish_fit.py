"""Every Spanish worksheet prints on the same pages as its English: the twins of all the shipped
modules, rendered through the document service, page for page (Spanish runs longer than English)."""

from __future__ import annotations

import io

import pypdf
import pytest

from facilitator.documents import catalog, service


def _pages(order) -> int:
    return len(pypdf.PdfReader(io.BytesIO(service.render(order.build()))).pages)


def test_each_module_s_worksheets_take_as_many_pages_in_spanish_as_in_english(app, session, matrix16):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("database-independent: run once, in the SQLite run")
    curriculum = catalog.domain_of(matrix16)
    longer = []
    for module in curriculum.modules():
        if not module.worksheets:
            continue
        english = _pages(catalog.worksheet_order(module.code, version=matrix16, lang="en"))
        spanish = _pages(catalog.worksheet_order(module.code, version=matrix16, lang="es"))
        assert english == sum(w.pages for w in module.worksheets), module.code
        if spanish != english:
            longer.append(f"{module.code}: {english} page(s) in English, {spanish} in Spanish")
    assert not longer, longer
