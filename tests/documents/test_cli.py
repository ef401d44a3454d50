"""`facilitator print ...`: worksheets, guides and the handbook from the command line."""

from __future__ import annotations

from sqlalchemy import select

from facilitator.audit.models import AuditEvent

from .conftest import reader, text


def test_print_a_module_packet(runner, tmp_path):
    out = tmp_path / "rp3.pdf"
    result = runner.invoke(args=["print", "worksheet", "rp3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    assert len(reader(out).pages) == 2
    assert [int(v) for v in reader(out).pages[0].mediabox[2:]] == [612, 792]  # Letter


def test_print_a_personalized_fillable_sheet_at_a4(runner, session, tmp_path, make_program, make_group,
                                                   make_participant):
    program = make_program("Cedar House")
    person = make_participant(program, make_group(program), name="Robin")
    out = tmp_path / "rp3a.pdf"
    result = runner.invoke(args=["print", "worksheet", "RP 3A", "--participant", str(person.id), "--fillable",
                                 "--lang", "en", "--page-size", "a4", "-o", str(out)])
    assert result.exit_code == 0, result.output
    pdf = reader(out)
    assert [round(float(v)) for v in pdf.pages[0].mediabox[2:]] == [595, 842]  # A4
    assert "rp3a_anchors_r1_c1" in pdf.get_fields()
    page = text(out)
    assert "Robin" in page and "Cedar House" in page and "42 CFR part 2" in page
    event = session.scalars(select(AuditEvent).where(AuditEvent.participant_id == person.id)).one()
    assert event.action == "document.print" and event.detail["codes"] == ["RP 3A"]
    assert "Robin" not in str(event.detail), "audit rows hold ids, never names"


def test_unknown_codes_participants_and_languages_exit_non_zero_and_write_nothing(runner, tmp_path):
    out = tmp_path / "nothing.pdf"
    for args, message in (
        (["worksheet", "RP 99"], "'RP 99' is not a module or worksheet code"),
        (["worksheet", "RP 3", "--participant", "987654"], "no participant with id 987654"),
        (["worksheet", "RP 3", "--lang", "fr"], "there are no printed documents in 'fr'"),
        (["guide", "XX 1"], "'XX 1' is not a module or worksheet code"),
        (["handbook", "--curriculum", "no-such-curriculum"], "no curriculum named 'no-such-curriculum'"),
    ):
        result = runner.invoke(args=["print", *args, "-o", str(out)])
        assert result.exit_code != 0, args
        assert message in result.output, result.output
        assert not out.exists()


def test_print_a_facilitator_guide(runner, tmp_path):
    out = tmp_path / "guide.pdf"
    result = runner.invoke(args=["print", "guide", "RP-3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    words = " ".join(text(out).split())
    for expected in ("Facilitator guide: RP 3 · Avoiding Relapse Drift", "Goals", "Timed outline",
                     "0:00–0:10", "0:30–0:50 20 Hand out RP 3A", "1:00–1:30 30 Open discussion",
                     "Drift is not a decision.", "Discussion questions", "Considerations",
                     "A member used this week.", "Handouts used", "RP 3A My Mooring Lines (1 page)"):
        assert expected in words, expected
    assert words.count("Key points") == 1, "the Markdown's own heading is not repeated"
