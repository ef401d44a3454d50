"""Any worksheet as a web form: every field type gets labelled controls, and answers read back by
the same names (the macro in templates/clinical/_worksheet_form.html and clinical.forms.WorksheetForm)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from facilitator.clinical.forms import WorksheetForm
from facilitator.domain.curriculum import Field, Worksheet

SHEET = Worksheet(code="XX 1A", title="Every field type", fields=(
    Field(id="intro_note", type="note", text="Read this first."),
    Field(id="name_it", type="text", label="Name it", text="A few words."),
    Field(id="story", type="lines", label="Tell it", lines=3),
    Field(id="when", type="date", label="When"),
    Field(id="triggers", type="checklist", label="My triggers", items=("Payday", "Old friends", "Being alone"),
          other=True),
    Field(id="habits", type="table", label="Habits this week", columns=("Habit", "Mon", "Tue"), rows=2, cells="check"),
    Field(id="week", type="table", label="My week", row_header="Day", row_labels=("Sat", "Sun"),
          columns=("Plan", "Who with")),
    Field(id="urge", type="scale", label="How strong", min=0, max=4, low_label="None", high_label="Very strong"),
    Field(id="month", type="calendar", label="Days without use"),
    Field(id="day_plan", type="schedule", label="My day", start_hour=8, end_hour=11),
    Field(id="chain", type="sequence", label="The chain", steps=("Trigger", "Thought", "Craving")),
    Field(id="signed", type="signature", label="Participant"),
))

TEMPLATE = ('{% from "clinical/_worksheet_form.html" import worksheet_fields %}'
            '<form>{{ worksheet_fields(ws, readonly=readonly) }}</form>')


class Controls(HTMLParser):
    """Collects form controls, label targets, ids, and whether each control sits inside a label."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str]] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()
        self.in_label = 0

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "label":
            self.in_label += 1
            if "for" in a:
                self.label_for.add(a["for"])
        if tag in ("input", "textarea", "select"):
            self.controls.append({**a, "_wrapped": "1" if self.in_label else ""})

    def handle_endtag(self, tag):
        if tag == "label":
            self.in_label -= 1


def _render(app, ws, readonly=False) -> str:
    with app.test_request_context():
        return render_template_string(TEMPLATE, ws=ws, readonly=readonly)


def test_every_control_has_a_visible_label(app):
    parser = Controls()
    parser.feed(_render(app, WorksheetForm(SHEET)))
    assert len(parser.controls) == 1 + 1 + 1 + 3 + 1 + 2 * 3 + 2 * 2 + 5 + 6 * 7 + 3 + 3 + 2
    for control in parser.controls:
        labelled_by = control.get("aria-labelledby", "").split()
        assert (control["_wrapped"] or control.get("id") in parser.label_for
                or (labelled_by and all(i in parser.ids for i in labelled_by))), control
    names = {c["name"] for c in parser.controls}
    assert {"ws-habits-r1-c1", "ws-habits-r2-c3", "ws-week-r2-c2", "ws-month-w6-sun", "ws-day_plan-h10",
            "ws-chain-s3", "ws-signed-name", "ws-signed-date", "ws-triggers-other"} <= names


def test_answers_read_back_by_the_same_names(app):
    ws = WorksheetForm(SHEET)
    form = MultiDict([
        ("ws-name_it", " Payday "), ("ws-story", "Line one\r\nLine two"), ("ws-when", "2027-01-05"),
        ("ws-triggers", "1"), ("ws-triggers", "3"), ("ws-triggers-other", "Music"),
        ("ws-habits-r1-c1", "Walk"), ("ws-habits-r1-c2", "1"), ("ws-week-r2-c1", "Church"),
        ("ws-urge", "3"), ("ws-month-w1-mon", "1"), ("ws-day_plan-h9", "Work"),
        ("ws-chain-s2", "Just one"), ("ws-signed-name", "Robin"), ("ws-signed-date", "2027-01-06"),
        ("ws-not-a-field", "ignored"),
    ])
    answers, errors = ws.read(form)
    assert errors == {}
    assert answers == {
        "name_it": "Payday", "story": "Line one\nLine two", "when": "2027-01-05",
        "triggers": {"checked": ["Payday", "Being alone"], "other": "Music"},
        "habits": {"r1_c1": "Walk", "r1_c2": True}, "week": {"r2_c1": "Church"}, "urge": 3,
        "month": {"w1_mon": True}, "day_plan": {"9": "Work"}, "chain": {"s2": "Just one"},
        "signed": {"name": "Robin", "date": "2027-01-06"},
    }
    html = _render(app, WorksheetForm(SHEET, answers))
    assert 'value="3" checked' in html and ">Line one\nLine two</textarea>" in html
    assert 'name="ws-triggers" value="3" checked' in html and 'name="ws-habits-r1-c2" id="ws-habits-r1-c2" value="1"' in html
    shown = _render(app, WorksheetForm(SHEET, answers), readonly=True)
    assert "<input" not in shown and "<textarea" not in shown
    assert "Being alone" in shown and "Other: Music" in shown and "Church" in shown and "Robin</span>, 2027-01-06" in shown


@pytest.mark.parametrize("pair,field,message", [
    (("ws-when", "05/01/2027"), "when", "Enter a date like 2027-01-05."),
    (("ws-urge", "9"), "urge", "Choose a number from 0 to 4."),
    (("ws-urge", "lots"), "urge", "Choose a number from 0 to 4."),
    (("ws-triggers", "7"), "triggers", "Choose from the items on the list"),
    (("ws-story", "x" * 4001), "story", "Keep this to 4000 characters or fewer"),
    (("ws-week-r1-c1", "x" * 4001), "week", "Keep this to 4000 characters or fewer"),
    (("ws-signed-date", "tomorrow"), "signed", "Enter a date like 2027-01-05."),
])
def test_bad_answers_name_the_field(app, pair, field, message):
    ws = WorksheetForm(SHEET)
    _, errors = ws.read(MultiDict([pair]))
    assert list(errors) == [field] and errors[field].startswith(message)
    html = _render(app, ws)
    assert f'id="ws-{field}-error"' in html and message in html
