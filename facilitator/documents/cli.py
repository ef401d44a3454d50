"""`facilitator print ...`: every printed document to a PDF file (worksheets, guides, the handbook, meeting
packets and sign-in sheets, progress reports, certificates, group calendars)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..audit import services as audit
from ..extensions import db
from ..groups.models import Group
from ..participants.models import Participant
from ..programs.models import Program
from ..queue import queue_for
from . import calendar_doc, catalog, jobs, meeting_docs, participant_docs, service


class _PrintGroup(AppGroup):
    """The print commands. A refusal from the catalog (an unknown code, id or month, a cancelled
    meeting, a certificate before completion) is the command's error: exit 1, no file written."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except catalog.DocumentNotFound as exc:
            raise click.ClickException(str(exc)) from exc


print_cli = _PrintGroup("print", help="Print worksheets, guides, the handbook, meeting packets and sign-in sheets, "
                                   "progress reports, certificates and group calendars to PDF.")

_output = click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
                       help="The PDF file to write.")
_page_size = click.option("--page-size", type=click.Choice(["letter", "a4"]),
                          help="Default: the participant's program setting, else letter.")
_lang = click.option("--lang", help="Language of the document: en or es (default: the curriculum's; a personalized "
                                    "copy: the participant's).")
_person_lang = click.option("--lang", help="Language of the document: en or es (default: the participant's).")
_packet_lang = click.option("--lang", help="Language of the guide and the blank copies: en or es (default: the "
                                           "curriculum's); each person's copy prints in their own language.")
_curriculum = click.option("--curriculum", help=f"Curriculum name (default: the participant's group's, else "
                                                f"{catalog.DEFAULT_CURRICULUM}).")


def _deliver(order: catalog.Order, output: Path, *, progress_bar: bool = False) -> None:
    """Render (or take from the cache) and write the file; only a finished file appears at output."""
    cache = service.cache_for(current_app)
    if jobs.is_long(order):
        data = _via_worker(order, progress_bar)
    else:
        data, _ = service.produce_bytes(order.key, order.build, cache, order.personal)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=output.parent, suffix=".part", delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, output)
    for pid in order.participant_ids:
        audit.record("document.print", "participant", pid, program_id=order.program_id, participant_id=pid,
                     detail={"document": order.kind, "via": "cli", **(order.detail or {})})
    db.session.commit()
    click.echo(f"wrote {output}")


def _via_worker(order: catalog.Order, progress_bar: bool) -> bytes:
    """The document from a worker (`facilitator worker`, here or on another machine), joining a job under way."""
    queue = queue_for(current_app)
    personal_seconds = int(current_app.config.get("DOCUMENT_PERSONAL_SECONDS", service.DEFAULT_PERSONAL_SECONDS))
    state = jobs.start(order, queue, personal_seconds=personal_seconds)
    if state["status"] != "done":
        click.echo("Queued for a worker (if none runs, start one with `facilitator worker`).", err=True)
        with click.progressbar(length=max(order.pages, 1), label="Rendering", hidden=not progress_bar,
                               show_pos=True) as bar:
            shown = [0]

            def advance(current: dict) -> None:
                step = min(current.get("done", 0), bar.length) - shown[0]
                if step > 0:
                    bar.update(step)
                    shown[0] += step

            state = jobs.wait(queue, order.key, advance)
    if state["status"] != "done":
        raise click.ClickException(f"the document could not be rendered: {state.get('error') or 'the worker stopped'}")
    data = jobs.document(queue, state, personal_seconds)
    if data is None:
        raise click.ClickException("the rendered document was removed from the cache; run the command again")
    return data


def _people(ids: tuple[int, ...]):
    people = catalog.participants_by_id(list(ids)) if ids else []
    enrollments = catalog.current_enrollments(people) if people else {}
    return people, enrollments


@print_cli.command("worksheet")
@click.argument("code")
@click.option("--participant", "participant_ids", type=int, multiple=True,
              help="Personalize for this participant id (repeat for a packet of copies).")
@click.option("--fillable", is_flag=True, help="Real PDF form fields (one participant at most).")
@_lang
@_page_size
@_curriculum
@_output
def worksheet_command(code: str, participant_ids: tuple[int, ...], fillable: bool, lang: str | None,
                      page_size: str | None, curriculum: str | None, output: Path) -> None:
    """Print the worksheets of a module ("RP 3") or one worksheet ("RP 3A")."""
    people, enrollments = _people(participant_ids)
    program = db.session.get(Program, people[0].program_id) if people else None
    version = catalog.version_for(people, enrollments, curriculum, program.id if program else None)
    order = catalog.worksheet_order(code, version=version, program=program, people=people,
                                    enrollments=enrollments, fillable=fillable, lang=lang, page_size=page_size)
    _deliver(order, output)


@print_cli.command("guide")
@click.argument("code")
@_lang
@_page_size
@_curriculum
@_output
def guide_command(code: str, lang: str | None, page_size: str | None, curriculum: str | None, output: Path) -> None:
    """Print the facilitator guide of a module."""
    order = catalog.guide_order(code, version=catalog.find_version(curriculum), lang=lang, page_size=page_size)
    _deliver(order, output)


@print_cli.command("handbook")
@_lang
@_page_size
@_curriculum
@_output
def handbook_command(lang: str | None, page_size: str | None, curriculum: str | None, output: Path) -> None:
    """Print the participant handbook: cover, contents and every worksheet (in a worker, with progress)."""
    order = catalog.handbook_order(version=catalog.find_version(curriculum), lang=lang, page_size=page_size)
    _deliver(order, output, progress_bar=True)


def _meeting(reference: str) -> meeting_docs.MeetingContext:
    group, planned, row = meeting_docs.find_meeting(reference)
    return meeting_docs.meeting_context(group, planned, row)


@print_cli.command("signin")
@click.argument("meeting")
@_page_size
@_output
def signin_command(meeting: str, page_size: str | None, output: Path) -> None:
    """Print a meeting's sign-in sheet (in English and Spanish). MEETING is its id or GROUP_ID/YYYY-MM-DD/HHMM/TRACK."""
    order = meeting_docs.signin_order(_meeting(meeting), page_size=page_size)
    _deliver(order, output)


@print_cli.command("packet")
@click.argument("meeting")
@_packet_lang
@_page_size
@_output
def packet_command(meeting: str, lang: str | None, page_size: str | None, output: Path) -> None:
    """Print a meeting's packet: guide, sign-in sheet, a personalized worksheet copy per person expected."""
    order = meeting_docs.packet_order(_meeting(meeting), page_size=page_size, lang=lang)
    _deliver(order, output, progress_bar=True)


def _participant(participant_id: int) -> tuple[Participant, Program]:
    person = db.session.get(Participant, participant_id)
    if person is None:
        raise click.ClickException(f"no participant with id {participant_id}")
    return person, db.session.get(Program, person.program_id)


@print_cli.command("progress")
@click.argument("participant_id", type=int)
@_person_lang
@_page_size
@_output
def progress_command(participant_id: int, lang: str | None, page_size: str | None, output: Path) -> None:
    """Print a participant's progress report (it carries the 42 CFR 2.32 notice)."""
    person, program = _participant(participant_id)
    order = participant_docs.progress_order(person, program=program, today=catalog.program_today(program),
                                            page_size=page_size, lang=lang)
    _deliver(order, output)


@print_cli.command("certificate")
@click.argument("participant_id", type=int)
@click.option("--name", help="The name as the participant wants it printed (default: their preferred name).")
@_person_lang
@_page_size
@_output
def certificate_command(participant_id: int, name: str | None, lang: str | None, page_size: str | None,
                        output: Path) -> None:
    """Print the completion certificate of a participant who completed the program."""
    person, program = _participant(participant_id)
    order = participant_docs.certificate_order(person, program=program, today=catalog.program_today(program),
                                               name=name, page_size=page_size, lang=lang)
    _deliver(order, output)


@print_cli.command("calendar")
@click.argument("group_id", type=int)
@click.option("--month", required=True, help="The first month to print, as YYYY-MM (2027-03).")
@click.option("--months", type=int, default=1, show_default=True, help="How many months (1 to 12), a page each.")
@_lang
@_page_size
@_output
def calendar_command(group_id: int, month: str, months: int, lang: str | None, page_size: str | None,
                     output: Path) -> None:
    """Print a group's calendar for the wall: a month per page with each meeting's module."""
    group = db.session.get(Group, group_id)
    if group is None:
        raise click.ClickException(f"no group with id {group_id}")
    first = catalog.parse_month(month)
    if first is None:
        raise click.ClickException(f"{month!r} is not a month: give it as YYYY-MM (2027-03)")
    order = calendar_doc.calendar_order(group, program=db.session.get(Program, group.program_id), month=first,
                                        months=months, page_size=page_size, lang=lang)
    _deliver(order, output)
