"""The curricula screens (directors): curricula and their versions, forking, the draft editor (tracks,
modules, worksheets with a print preview), publishing, zip import and export, and moving a group to
another published version.

URL table (every route: directors of the program; facilitators 403; another program's ids 404):
  GET        /curricula/                                          curricula and versions; zip upload form
  POST       /curricula/import                                    import a zip (published on success)
  GET        /curricula/versions/<v>                              a version; drafts: settings, check, publish
  GET        /curricula/versions/<v>/export.zip                   the version in the file format
  GET, POST  /curricula/versions/<v>/fork                         fork a published version into a new curriculum
  POST       /curricula/versions/<v>/new-draft                    start the next version of an own curriculum
  POST       /curricula/versions/<v>/settings                     a draft's title, label, description
  POST       /curricula/versions/<v>/publish                      validate and publish a draft
  POST       /curricula/versions/<v>/discard                      delete a draft
  GET, POST  /curricula/versions/<v>/tracks/<code>                a track: settings, modules in order, add a module
  POST       /curricula/versions/<v>/tracks/<code>/move           move a module up, down, or before another
  GET, POST  /curricula/versions/<v>/modules/<m>                  a module's guide
  POST       /curricula/versions/<v>/modules/<m>/retire           retire or restore a module
  POST       /curricula/versions/<v>/modules/<m>/delete           delete a module added in this draft
  POST       /curricula/versions/<v>/modules/<m>/worksheets       add a worksheet
  GET, POST  /curricula/versions/<v>/worksheets/<w>               a worksheet's fields with the printed page beside
  POST       /curricula/versions/<v>/worksheets/<w>/preview       the printed page for unsaved fields (HTML)
  POST       /curricula/versions/<v>/worksheets/<w>/delete        delete a worksheet
  GET        /curricula/preview.css                               the preview's print stylesheet (public, no data)
  GET, POST  /curricula/groups/<g>/version                        move a group: its effect first, then the move
"""

from __future__ import annotations

from datetime import date
from functools import cache

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..audit import services as audit
from ..documents import builders
from ..domain.curriculum_files import errors_only
from ..extensions import db
from ..groups.models import Group
from ..groups.services import clock
from ..programs.services import program_today
from ..web.access import director_required, own_group_or_404
from . import drafts, editing, moves, publishing, services, worksheets
from .forms import (
    SETTING_TYPES,
    ButtonForm,
    ForkForm,
    GroupVersionForm,
    ImportForm,
    MoveBeforeForm,
    NewModuleForm,
    NewWorksheetForm,
    SettingsForm,
    TrackForm,
    module_form,
    options,
    worksheet_form,
)
from .models import CurriculumVersion, Module, Track, Worksheet

bp = Blueprint("curricula", __name__, url_prefix="/curricula")


def _today() -> date:
    return program_today(current_user.program)


_WORDS = {"goals": _l("Goals"), "outline": _l("Timed outline"), "body": _l("Key points"),
          "questions": _l("Discussion questions"), "considerations": _l("Considerations"),
          "worksheets": _l("Worksheets"), "title": _l("Title"), "minutes": _l("Minutes"), "code": _l("Code"),
          "fields": _l("Fields"), "tracks": _l("Tracks"), "pattern": _l("Weekly pattern"), "name": _l("Name")}
# One of a list, numbered: "field 3" (the problem paths of the file checks).
_NUMBERED = {"fields": _l("field %(number)s"), "outline": _l("outline step %(number)s"), "goals": _l("goal %(number)s"),
             "questions": _l("question %(number)s"), "considerations": _l("consideration %(number)s"),
             "worksheets": _l("worksheet %(number)s"), "tracks": _l("track %(number)s")}


def where(field: str, module: Module | None = None) -> str:
    """A problem's field path in words: "worksheets[0].fields[2].columns" -> "RP 12A, field 3, columns"."""
    out = []
    for part in field.split("."):
        name, _sep, index = part.partition("[")
        number = int(index.rstrip("]")) if index.rstrip("]").isdigit() else None
        if name == "worksheets" and number is not None and module is not None and number < len(module.worksheets):
            out.append(_("Worksheet %(code)s", code=module.worksheets[number].code))
        elif number is not None:
            numbered = _NUMBERED.get(name)
            out.append(str(numbered) % {"number": number + 1} if numbered else f"{name} {number + 1}")
        else:
            out.append(str(_WORDS.get(name, name.replace("_", " "))))
    text = ", ".join(out)
    return text[:1].upper() + text[1:]


@bp.context_processor
def _helpers() -> dict:
    return {"where": where, "clock": clock}


@bp.errorhandler(drafts.VersionPublished)
def _published(error: drafts.VersionPublished):
    """Any change to a published version: refused, with the way forward."""
    db.session.rollback()
    return render_template("errors/error.html", code=409,
                           message=_("%(error)s. Published versions never change: fork it or start a new draft.",
                                             error=str(error))), 409


@bp.errorhandler(PermissionError)
def _forbidden(error: PermissionError):
    db.session.rollback()
    return render_template("errors/error.html", code=403, message=_("You do not have access to this page.")), 403


@bp.errorhandler(drafts.NotInVersion)
def _not_here(error: drafts.NotInVersion):
    db.session.rollback()
    return render_template("errors/error.html", code=404,
                           message=_("There is no such page, or it is not part of your program.")), 404


def _version_or_404(version_id: int) -> CurriculumVersion:
    version = services.visible_version(version_id, current_user.program_id)
    if version is None:
        abort(404)
    return version


def _editable(version: CurriculumVersion) -> bool:
    return not version.is_published and version.curriculum.program_id == current_user.program_id


def _row_or_404(model, row_id: int, version: CurriculumVersion):
    row = db.session.get(model, row_id)
    if row is None or row.version_id != version.id:
        abort(404)
    return row


def _track_or_404(version: CurriculumVersion, code: str) -> Track:
    track = db.session.scalar(select(Track).where(Track.version_id == version.id, Track.code == code.upper())
                              .options(selectinload(Track.modules).selectinload(Module.worksheets)))
    if track is None:
        abort(404)
    return track


def _refused(form, error: drafts.EditRefused) -> None:
    """Put the service's messages next to the form's fields (keys are field ids like "fields-2-label")."""
    by_id = {}
    for f in form:
        by_id[f.id] = by_id[f.short_name] = f  # a prefixed form ("new-title") still answers to "title"
        for entry in getattr(f, "entries", ()):
            for sub in getattr(entry, "form", ()):
                by_id[sub.id] = sub
    form.form_errors = []
    for key, message in error.problems.items():
        target = by_id.get(key)
        if target is not None:
            target.errors = [*target.errors, message] if isinstance(target.errors, list) else [message]
        else:
            form.form_errors.append(message)


# --- curricula and versions -----------------------------------------------------------------

def _index_page(form: ImportForm | None = None, problems: list | None = None, status: int = 200):
    curricula = services.program_curricula(current_user.program_id)
    in_use = dict(db.session.execute(
        select(Group.version_id, func.count(Group.id)).where(Group.program_id == current_user.program_id, Group.active)
        .group_by(Group.version_id)).all())
    return render_template("curricula/index.html", curricula=curricula, in_use=in_use,
                           import_form=form or ImportForm(formdata=None), import_problems=problems), status


@bp.route("/")
@director_required
def index():
    """The shipped curricula and the program's own, with every version and the groups running it."""
    return _index_page()


def _version_page(version: CurriculumVersion, status: int = 200, *, review: publishing.DraftReview | None = None,
                  settings_form: SettingsForm | None = None, fork_form: ForkForm | None = None):
    loaded = services.load_version(version.id)
    editable = _editable(version)
    changes = review.changes if review else ()
    if editable and not review:
        parent = services.to_domain(services.load_version(version.parent_id)) if version.parent_id else None
        changes = tuple(publishing.change_lines(parent, services.to_domain(loaded)))
    groups = list(db.session.scalars(select(Group).where(Group.version_id == version.id,
                                                          Group.program_id == current_user.program_id)
                                     .order_by(Group.name)))
    parent = db.session.get(CurriculumVersion, version.parent_id) if version.parent_id else None
    titles = {m.code: m for t in loaded.tracks for m in t.modules}
    html = render_template(
        "curricula/version.html", version=loaded, editable=editable, review=review, changes=changes,
        parent=parent, groups=groups, modules=titles, own=version.curriculum.program_id == current_user.program_id,
        settings_form=settings_form or SettingsForm(formdata=None, data={
            "title": version.title, "label": version.label, "description": version.description}),
        fork_form=fork_form or ForkForm(formdata=None), button=ButtonForm(formdata=None))
    return html, status


@bp.route("/versions/<int:version_id>")
@director_required
def version(version_id: int):
    """A version: tracks and what changed; a draft also has its settings, the check and publishing."""
    found = _version_or_404(version_id)
    review = publishing.review(found) if _editable(found) and request.args.get("check") else None
    return _version_page(found, review=review)


@bp.route("/versions/<int:version_id>/export.zip")
@director_required
def export(version_id: int):
    """Download the version in the curriculum file format (curriculum.yaml and modules/*.md, zipped)."""
    found = _version_or_404(version_id)
    response = make_response(services.export_zip(found))
    response.headers["Content-Type"] = "application/zip"
    response.headers["Content-Disposition"] = f'attachment; filename="{services.zip_name(found)}"'
    return response


@bp.route("/import", methods=["POST"])
@director_required
def import_zip():
    """Import a zip in the file format: every problem with its file and line, or a new published version."""
    form = ImportForm()
    if not form.validate_on_submit():
        abort(400)
    upload = form.file.data
    problems = []
    if upload is None or not getattr(upload, "filename", ""):
        problems = [services.Problem("upload", _("Choose a zip file to upload."))]
    else:
        try:
            created_version, created = publishing.import_zip(upload.read(services.ZIP_MAX_BYTES + 1), current_user)
        except services.ZipRefused as refused:
            db.session.rollback()
            problems = refused.problems
    if problems:
        return _index_page(form, problems, 422)
    db.session.commit()
    flash(_("Imported %(title)s as version %(label)s.", title=created_version.title, label=created_version.label)
          if created else _("Nothing new: this is already version %(label)s of %(title)s.",
                            label=created_version.label, title=created_version.title), "info")
    return redirect(url_for(".version", version_id=created_version.id), 303)


@bp.route("/versions/<int:version_id>/fork", methods=["GET", "POST"])
@director_required
def fork(version_id: int):
    """Fork a published version into a new draft curriculum of the program."""
    source = _version_or_404(version_id)
    form = ForkForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            draft = drafts.fork(source, current_user, form.title.data or "")
        except drafts.EditRefused as refused:
            db.session.rollback()
            _refused(form, refused)
            return _version_page(source, 422, fork_form=form)
        db.session.commit()
        flash(_("%(title)s is a draft copy of %(source)s (version %(label)s). Edit it, then publish.",
                title=draft.title, source=source.title, label=source.label), "info")
        return redirect(url_for(".version", version_id=draft.id), 303)
    return _version_page(source, fork_form=form)


@bp.route("/versions/<int:version_id>/new-draft", methods=["POST"])
@director_required
def new_draft(version_id: int):
    """Start the next version of one of the program's own curricula as a draft."""
    source = _version_or_404(version_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    draft = drafts.new_draft(source, current_user)
    db.session.commit()
    flash(_("Version %(label)s is a draft copy of version %(source)s.", label=draft.label, source=source.label), "info")
    return redirect(url_for(".version", version_id=draft.id), 303)


@bp.route("/versions/<int:version_id>/settings", methods=["POST"])
@director_required
def settings(version_id: int):
    """Save a draft's title, label and description."""
    draft = _version_or_404(version_id)
    form = SettingsForm()
    if not form.validate_on_submit():
        return _version_page(draft, 422, settings_form=form)
    try:
        drafts.update_settings(draft, current_user, title=form.title.data or "", label=form.label.data or "",
                                description=form.description.data or "")
    except drafts.EditRefused as refused:
        db.session.rollback()
        _refused(form, refused)
        return _version_page(draft, 422, settings_form=form)
    db.session.commit()
    flash(_("Saved."), "info")
    return redirect(url_for(".version", version_id=draft.id), 303)


@bp.route("/versions/<int:version_id>/publish", methods=["POST"])
@director_required
def publish(version_id: int):
    """Publish a draft: the same checks as `facilitator curriculum validate`, then it never changes."""
    draft = _version_or_404(version_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        publishing.publish(draft, current_user)
    except publishing.PublishRefused as refused:
        db.session.rollback()
        return _version_page(draft, 422, review=publishing.review(draft, refused.problems))
    db.session.commit()
    flash(_("Published version %(label)s of %(title)s. Groups keep their version until you move them.",
            label=draft.label, title=draft.title), "info")
    return redirect(url_for(".version", version_id=draft.id), 303)


@bp.route("/versions/<int:version_id>/discard", methods=["POST"])
@director_required
def discard(version_id: int):
    """Delete a draft."""
    draft = _version_or_404(version_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    title = draft.title
    drafts.discard(draft, current_user)
    db.session.commit()
    flash(_("The draft of %(title)s was deleted.", title=title), "info")
    return redirect(url_for(".index"), 303)


# --- tracks ------------------------------------------------------------------------------------

def _track_page(version: CurriculumVersion, track: Track, status: int = 200, **forms):
    editable = _editable(version)
    problems = {}
    if editable:
        alone = services.track_alone(track)
        problems = publishing.problems_by_module(alone, errors_only(services.check_curriculum(alone)))
    codes = [(str(m.id), f"{m.code} {m.title}") for m in track.modules]
    move_form = forms.get("move_form") or MoveBeforeForm(formdata=None)
    move_form.module.choices = options(codes)
    move_form.before.choices = options([*codes, ("end", _("the end of %(track)s", track=track.code))])
    return render_template(
        "curricula/track.html", version=version, track=track, editable=editable, problems=problems,
        track_form=forms.get("track_form") or TrackForm(formdata=None, data={
            "minutes": str(track.minutes), "required": track.required, "first_week": str(track.first_week),
            "last_week": str(track.last_week or "")}),
        move_form=move_form, new_form=forms.get("new_form") or NewModuleForm(formdata=None, prefix="new"),
        button=ButtonForm(formdata=None)), status


@bp.route("/versions/<int:version_id>/tracks/<code>", methods=["GET", "POST"])
@director_required
def track(version_id: int, code: str):
    """A track: its settings, its modules in delivery order with move buttons, and adding a local module."""
    found = _version_or_404(version_id)
    row = _track_or_404(found, code)
    if request.method == "GET":
        return _track_page(found, row)
    which = request.form.get("form")
    form = NewModuleForm(prefix="new") if which == "new" else TrackForm()
    if not form.validate_on_submit():
        return _track_page(found, row, 422, **{("new_form" if which == "new" else "track_form"): form})
    try:
        if which == "new":
            module = editing.add_module(found, row, current_user, title=form.title.data or "",
                                        minutes=form.minutes.data or "")
        else:
            editing.update_track(found, row, current_user, minutes=form.minutes.data, required=form.required.data,
                                 first_week=form.first_week.data, last_week=form.last_week.data)
    except drafts.EditRefused as refused:
        db.session.rollback()
        _refused(form, refused)
        return _track_page(found, row, 422, **{("new_form" if which == "new" else "track_form"): form})
    db.session.commit()
    if which == "new":
        flash(_("Added %(code)s %(title)s at the end of %(track)s. Write its guide and add a worksheet.",
                code=module.code, title=module.title, track=row.code), "info")
        return redirect(url_for(".module", version_id=found.id, module_id=module.id), 303)
    flash(_("Saved %(code)s.", code=row.code), "info")
    return redirect(url_for(".track", version_id=found.id, code=row.code), 303)


@bp.route("/versions/<int:version_id>/tracks/<code>/move", methods=["POST"])
@director_required
def move(version_id: int, code: str):
    """Move a module: up or down one place (a button per module), or before another (a pair of selects)."""
    found = _version_or_404(version_id)
    row = _track_or_404(found, code)
    button = request.form.get("step", "")
    form = MoveBeforeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if button:
            module_id, _sep, direction = button.partition(":")
            module = _row_or_404(Module, int(module_id) if module_id.isdigit() else 0, found)
            editing.move_module(found, module, current_user, direction)
            message = (_("Moved %(code)s up.", code=module.code) if direction == "up"
                       else _("Moved %(code)s down.", code=module.code))
        else:
            module = _row_or_404(Module, int(form.module.data) if (form.module.data or "").isdigit() else 0, found)
            target = None if form.before.data == "end" else _row_or_404(
                Module, int(form.before.data) if (form.before.data or "").isdigit() else 0, found)
            editing.move_before(found, module, target, current_user)
            message = (_("Moved %(code)s before %(target)s.", code=module.code, target=target.code) if target
                       else _("Moved %(code)s to the end of %(track)s.", code=module.code, track=row.code))
    except drafts.EditRefused as refused:
        db.session.rollback()
        form = MoveBeforeForm(formdata=None)
        form.form_errors = list(refused.problems.values())
        return _track_page(found, row, 422, move_form=form)
    db.session.commit()
    flash(message, "info")
    return redirect(url_for(".track", version_id=found.id, code=row.code) + f"#module-{module.id}", 303)


# --- modules -----------------------------------------------------------------------------------

def _module_page(version: CurriculumVersion, module: Module, status: int = 200, *, form=None, sheet_form=None):
    editable = _editable(version)
    problems = []
    if editable:
        problems = sorted(errors_only(services.check_module(services.track_alone(module.track, [module]), module.code)),
                          key=publishing.section_rank)
    return render_template(
        "curricula/module.html", version=version, module=module, track=module.track, editable=editable,
        problems=problems, local=editable and editing.is_local(version, module),
        form=form or module_form(module), sheet_form=sheet_form or NewWorksheetForm(formdata=None, prefix="sheet"),
        button=ButtonForm(formdata=None)), status


@bp.route("/versions/<int:version_id>/modules/<int:module_id>", methods=["GET", "POST"])
@director_required
def module(version_id: int, module_id: int):
    """A module's title, minutes and facilitator guide; its worksheets; retire or restore it."""
    found = _version_or_404(version_id)
    row = _row_or_404(Module, module_id, found)
    if request.method == "GET":
        return _module_page(found, row)
    form = module_form(row, request.form)
    if not form.validate_on_submit():
        return _module_page(found, row, 422, form=form)
    try:
        editing.update_module(found, row, current_user, form.to_input())
    except drafts.EditRefused as refused:
        db.session.rollback()
        _refused(form, refused)
        return _module_page(found, row, 422, form=form)
    db.session.commit()
    flash(_("Saved %(code)s.", code=row.code), "info")
    return redirect(url_for(".module", version_id=found.id, module_id=row.id), 303)


@bp.route("/versions/<int:version_id>/modules/<int:module_id>/retire", methods=["POST"])
@director_required
def retire(version_id: int, module_id: int):
    """Retire a module (kept in history, no longer delivered), or restore it."""
    found = _version_or_404(version_id)
    row = _row_or_404(Module, module_id, found)
    if not ButtonForm().validate_on_submit():
        abort(400)
    retired = request.form.get("retired") == "1"
    try:
        editing.set_retired(found, row, current_user, retired)
    except drafts.EditRefused as refused:
        db.session.rollback()
        flash(" ".join(refused.problems.values()), "error")
        return redirect(url_for(".module", version_id=version_id, module_id=module_id), 303)
    db.session.commit()
    flash(_("%(code)s is retired: it is no longer delivered.", code=row.code) if retired
          else _("%(code)s is delivered again.", code=row.code), "info")
    return redirect(url_for(".module", version_id=found.id, module_id=row.id), 303)


@bp.route("/versions/<int:version_id>/modules/<int:module_id>/delete", methods=["POST"])
@director_required
def delete_module(version_id: int, module_id: int):
    """Delete a module that was added in this draft."""
    found = _version_or_404(version_id)
    row = _row_or_404(Module, module_id, found)
    if not ButtonForm().validate_on_submit():
        abort(400)
    code, track_code = row.code, row.track.code
    try:
        editing.delete_module(found, row, current_user)
    except drafts.EditRefused as refused:
        db.session.rollback()
        flash(" ".join(refused.problems.values()), "error")
        return redirect(url_for(".module", version_id=version_id, module_id=module_id), 303)
    db.session.commit()
    flash(_("Deleted %(code)s.", code=code), "info")
    return redirect(url_for(".track", version_id=found.id, code=track_code), 303)


@bp.route("/versions/<int:version_id>/modules/<int:module_id>/worksheets", methods=["POST"])
@director_required
def add_worksheet(version_id: int, module_id: int):
    """Add a worksheet to a module."""
    found = _version_or_404(version_id)
    row = _row_or_404(Module, module_id, found)
    form = NewWorksheetForm(prefix="sheet")
    if not form.validate_on_submit():
        return _module_page(found, row, 422, sheet_form=form)
    try:
        sheet = worksheets.add_worksheet(found, row, current_user, title=form.title.data or "")
    except drafts.EditRefused as refused:
        db.session.rollback()
        _refused(form, refused)
        return _module_page(found, row, 422, sheet_form=form)
    db.session.commit()
    flash(_("Added worksheet %(code)s. Add its fields.", code=sheet.code), "info")
    return redirect(url_for(".worksheet", version_id=found.id, worksheet_id=sheet.id), 303)


# --- worksheets ------------------------------------------------------------------------------------

@cache
def _print_css() -> str:
    return (builders.TEMPLATE_DIR / "print.css").read_text(encoding="utf-8")


# On screen the preview is one sheet of paper: the print stylesheet plus a page-sized body.
_SCREEN = ("html { background: #e9edf2; } body { background: #fff; margin: 12px auto; padding: 0.6in; "
           "max-width: 8.5in; box-shadow: 0 1px 4px rgba(0,0,0,.25); }")


@bp.route("/preview.css")
def preview_css():
    """The print stylesheet of the worksheet preview (public: the app's own CSS, no data). A linked
    file, not a <style> element: the Content-Security-Policy allows styles from the app's files only."""
    response = make_response(f"{_print_css()}\n{_SCREEN}")
    response.mimetype = "text/css"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def preview_html(sheet, module: Module) -> str:
    """The worksheet as it prints (the document service's own HTML and print stylesheet), as one page."""
    sheets = [builders.Sheet(sheet, module.code, module.title)]
    try:
        body = builders.worksheets_html(sheets, title=sheet.title, lang=sheet.language)
    except builders.UnknownLanguage:
        body = builders.worksheets_html(sheets, title=sheet.title, lang="en")
    link = f'<link rel="stylesheet" href="{url_for("curricula.preview_css")}">'
    return body.replace("</head>", f"{link}</head>", 1)


def _worksheet_page(version: CurriculumVersion, sheet: Worksheet, status: int = 200, *, form=None):
    editable = _editable(version)
    form = form or worksheet_form(sheet)
    shown = worksheets.preview_worksheet(sheet, title=form.title.data or "", intro=form.intro.data or "",
                                         pages=form.pages.data or "", rows=form.rows())
    problems = []
    if editable:
        module = sheet.module
        index = [w.code for w in module.worksheets].index(sheet.code)
        problems = [p for p in errors_only(services.check_module(services.track_alone(module.track, [module]),
                                                                 module.code))
                    if p.field.startswith(f"worksheets[{index}]")]
    return render_template(
        "curricula/worksheet.html", version=version, sheet=sheet, module=sheet.module, editable=editable, form=form,
        problems=problems, preview=preview_html(shown, sheet.module), setting_types=SETTING_TYPES,
        button=ButtonForm(formdata=None)), status


@bp.route("/versions/<int:version_id>/worksheets/<int:worksheet_id>", methods=["GET", "POST"])
@director_required
def worksheet(version_id: int, worksheet_id: int):
    """A worksheet's fields as rows (type, label, the type's settings) with its printed page beside."""
    found = _version_or_404(version_id)
    sheet = _row_or_404(Worksheet, worksheet_id, found)
    if request.method == "GET":
        return _worksheet_page(found, sheet)
    form = worksheet_form(sheet, formdata=request.form)
    if not form.validate_on_submit():
        return _worksheet_page(found, sheet, 422, form=form)
    action = request.form.get("action", "save")
    if not _editable(found):
        raise drafts.VersionPublished(_("version %(label)s of %(title)s is published and cannot change",
                                         label=found.label, title=found.curriculum.title))
    rows = form.rows()
    if action not in ("save", "preview"):
        try:
            rows = worksheets.field_action(rows, action if not action.startswith("add")
                                           else f"add:{form.new_type.data}")
        except drafts.EditRefused as refused:
            _refused(form, refused)
            return _worksheet_page(found, sheet, 422, form=form)
        form = worksheet_form(sheet, rows=rows, formdata=request.form)
    if action == "preview":
        return _worksheet_page(found, sheet, form=form)
    try:
        worksheets.update_worksheet(found, sheet, current_user, title=form.title.data or "",
                                    intro=form.intro.data or "", pages=form.pages.data or "", rows=rows)
    except drafts.EditRefused as refused:
        db.session.rollback()
        _refused(form, refused)
        return _worksheet_page(found, sheet, 422, form=form)
    db.session.commit()
    flash(_("Saved %(code)s.", code=sheet.code), "info")
    anchor = f"#field-{action.partition(':')[2]}" if ":" in action else ""
    if action.startswith("add"):
        anchor = f"#field-{len(rows) - 1}"
    return redirect(url_for(".worksheet", version_id=found.id, worksheet_id=sheet.id) + anchor, 303)


@bp.route("/versions/<int:version_id>/worksheets/<int:worksheet_id>/preview", methods=["POST"])
@director_required
def worksheet_preview(version_id: int, worksheet_id: int):
    """The printed page for the fields as typed, unsaved (the editor's live preview asks for it)."""
    found = _version_or_404(version_id)
    sheet = _row_or_404(Worksheet, worksheet_id, found)
    form = worksheet_form(sheet, formdata=request.form)
    if not form.validate_on_submit():
        abort(400)
    shown = worksheets.preview_worksheet(sheet, title=form.title.data or "", intro=form.intro.data or "",
                                         pages=form.pages.data or "", rows=form.rows())
    return preview_html(shown, sheet.module), 200, {"Content-Type": "text/html; charset=utf-8"}


@bp.route("/versions/<int:version_id>/worksheets/<int:worksheet_id>/delete", methods=["POST"])
@director_required
def delete_worksheet(version_id: int, worksheet_id: int):
    """Delete a worksheet of a draft."""
    found = _version_or_404(version_id)
    sheet = _row_or_404(Worksheet, worksheet_id, found)
    if not ButtonForm().validate_on_submit():
        abort(400)
    module_id, code = sheet.module_id, sheet.code
    worksheets.delete_worksheet(found, sheet, current_user)
    db.session.commit()
    flash(_("Deleted worksheet %(code)s.", code=code), "info")
    return redirect(url_for(".module", version_id=found.id, module_id=module_id), 303)


# --- moving a group to another version ---------------------------------------------------------------

def _version_choices(group: Group) -> list:
    return options([(str(v.id), _("%(title)s, version %(label)s", title=v.title, label=v.label)
                     if v.curriculum.program_id else
                     _("%(title)s, version %(label)s (shipped)", title=v.title, label=v.label))
                    for v in moves.move_targets(group)])


@bp.route("/groups/<int:group_id>/version", methods=["GET", "POST"])
@director_required
def move_group(group_id: int):
    """Move a group to another published version: first its effect on every member, then the move."""
    group = own_group_or_404(group_id)
    form = GroupVersionForm()
    form.version.choices = _version_choices(group)
    if request.method == "GET":
        return render_template("curricula/move_group.html", group=group, form=form, effect=None)
    if not form.validate_on_submit():
        abort(400)
    target = services.visible_version(int(form.version.data), current_user.program_id) \
        if (form.version.data or "").isdigit() else None
    if target is None:
        form.version.errors = [_("Choose a published version.")]
        return render_template("curricula/move_group.html", group=group, form=form, effect=None), 422
    today = _today()
    try:
        if request.form.get("action") == "apply":
            notes = moves.move_group(group, target, current_user, today)
        else:
            members = moves.active_members(group)
            effect = moves.move_effect(group, target, today, members)
            audit.record_many("group.version_effect", "group", group.id, [p.id for p in members], user=current_user,
                              remote_addr=request.remote_addr or "")
            html = render_template("curricula/move_group.html", group=group, form=form, effect=effect)
            db.session.commit()
            return html
    except drafts.EditRefused as refused:
        db.session.rollback()
        form.version.errors = list(refused.problems.values())
        return render_template("curricula/move_group.html", group=group, form=form, effect=None), 422
    db.session.commit()
    flash(" ".join([_("%(group)s now runs %(title)s (version %(label)s).", group=group.name, title=target.title,
                        label=target.label), *notes]), "info")
    return redirect(url_for("groups.show", group_id=group.id), 303)
