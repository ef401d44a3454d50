"""Fillable worksheets: the AcroForm fields WeasyPrint 70 writes, made small and readable.

WeasyPrint gives every text field the font of its input box and, so that anything typed later can
be drawn, embeds that whole font (DejaVu Sans: about 760 KB, a 440 KB file for a one-page sheet).
Here the body's font is subset as on any other page, and the fields type in Helvetica, one of the
standard fonts every PDF viewer has (the /DA default appearance; viewers draw typed text from it,
NeedAppearances is set). Pinned at WeasyPrint 70.0; tests cover it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

FIELD_FONT = "Helv"  # the resource name Acrobat and other viewers use for Helvetica in forms
_FONT_SIZE = re.compile(rb"/\S+ ([\d.]+) Tf")


@contextmanager
def subset_fonts() -> Iterator[None]:
    """While writing a PDF, subset the fonts of form inputs too (WeasyPrint would embed them whole)."""
    from weasyprint.pdf.fonts import Font

    # Font.__init__ sets used_in_forms = False and add_forms sets it True; a property that ignores
    # the assignment keeps every font subset. The render lock makes this one write at a time.
    saved = Font.__dict__.get("used_in_forms")
    Font.used_in_forms = property(lambda self: False, lambda self, value: None)
    try:
        yield
    finally:
        if saved is None:
            del Font.used_in_forms
        else:
            Font.used_in_forms = saved


def finish(document: Any, pdf: Any) -> None:
    """The finisher of a fillable PDF: fields type in Helvetica, radio groups are one field each."""
    import pydyf

    helvetica = pydyf.Dictionary({"Type": "/Font", "Subtype": "/Type1", "BaseFont": "/Helvetica",
                                  "Encoding": "/WinAnsiEncoding"})
    pdf.add_object(helvetica)
    acroform = pdf.catalog.get("AcroForm")
    if acroform is not None:
        acroform["DR"] = pydyf.Dictionary({"Font": pydyf.Dictionary({FIELD_FONT: helvetica.reference})})
        acroform["DA"] = pydyf.String(f"/{FIELD_FONT} 0 Tf 0 g")
    for obj in pdf.objects:
        if not isinstance(obj, dict) or obj.get("Subtype") != "/Widget":
            continue
        if "DA" in obj:
            obj["DA"] = pydyf.String(_helvetica_appearance(obj["DA"].string))
        if "Parent" in obj:
            _radio_kid_unnamed(obj)


def _helvetica_appearance(default: str | bytes) -> str:
    """A field's default appearance in Helvetica at the size WeasyPrint chose, in black."""
    found = _FONT_SIZE.search(default if isinstance(default, bytes) else default.encode())
    size = found.group(1).decode() if found else "0"  # 0: the viewer fits the text to the field
    return f"/{FIELD_FONT} {size} Tf 0 g"


def _radio_kid_unnamed(widget: dict) -> None:
    """Drop the field name WeasyPrint 70 also writes on each radio button of a group.

    A kid with its own /T is a separate field named "group.group", so viewers and pypdf see ten
    fields instead of one choice; without it the buttons inherit the group's name and title.
    """
    for key in ("T", "TU", "FT"):
        widget.pop(key, None)
