"""Store curricula in the database and read them back as domain objects."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import asdict, replace
from pathlib import PurePosixPath
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..domain import curriculum as dom
from ..domain.curriculum_files import (
    MANIFEST,
    MANIFEST_SCHEMA,
    MAX_FILE_BYTES,
    MODULE_SCHEMA,
    field_from_dict,
    field_to_dict,
    module_front_matter,
    render_files,
)
from ..domain.curriculum_rules import validate
from ..domain.problems import N_, Problem
from ..extensions import db
from ..models_base import utcnow
from .languages import module_text, stored_twin, worksheet_text
from .models import Curriculum, CurriculumVersion, Module, Track, Worksheet


class CurriculumNotFound(LookupError):
    """No curriculum or version matches what was asked for."""


def content_hash(curriculum: dom.Curriculum) -> str:
    """A stable hash of everything that defines a version (used to make imports idempotent)."""
    payload = json.dumps(curriculum.content(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _find_curriculum(name: str, program_id: int | None) -> Curriculum | None:
    query = select(Curriculum).where(Curriculum.name == name)
    query = query.where(Curriculum.program_id.is_(None) if program_id is None else Curriculum.program_id == program_id)
    return db.session.scalar(query)


def import_curriculum(curriculum: dom.Curriculum, *, program_id: int | None = None, user: Any = None,
                      publish: bool = True) -> tuple[CurriculumVersion, bool]:
    """Store a validated curriculum as a new version; return (version, created). Same content: no-op."""
    digest = content_hash(curriculum)
    stored = _find_curriculum(curriculum.name, program_id)
    if stored is None:
        stored = Curriculum(name=curriculum.name, title=curriculum.title, program_id=program_id)
        db.session.add(stored)
        db.session.flush()
    else:
        same = db.session.scalar(select(CurriculumVersion).where(
            CurriculumVersion.curriculum_id == stored.id, CurriculumVersion.content_hash == digest))
        if same is not None:
            return same, False
    number = (db.session.scalar(select(func.max(CurriculumVersion.number))
                                .where(CurriculumVersion.curriculum_id == stored.id)) or 0) + 1
    version = CurriculumVersion(
        curriculum=stored, number=number, label=curriculum.version, title=curriculum.title,
        description=curriculum.description, language=curriculum.language, credit_share=curriculum.credit_share,
        pattern=[asdict(slot) for slot in curriculum.pattern], content_hash=digest,
        translations={language: {"title": title, "description": dict(curriculum.descriptions).get(language, "")}
                      for language, title in curriculum.translations},
        status="published" if publish else "draft", published_at=utcnow() if publish else None,
        published_by_id=getattr(user, "id", None) if publish else None,
    )
    db.session.add(version)
    for t_pos, track in enumerate(curriculum.tracks):
        stored_track = Track(
            position=t_pos, code=track.code, name=track.name, kind=track.kind,
            ordering=track.ordering, minutes=track.minutes, required=track.required, first_week=track.first_week,
            last_week=track.last_week, closing_discussion_minutes=track.closing_discussion_minutes,
            translations={language: {"name": name} for language, name in track.names},
        )
        version.tracks.append(stored_track)
        for m_pos, module in enumerate(track.modules):
            stored_module = Module(
                version=version, position=m_pos, code=module.code, title=module.title, minutes=module.minutes,
                goals=list(module.goals), outline=[{"minutes": s.minutes, "activity": s.activity} for s in module.outline],
                key_points=module.key_points, questions=list(module.questions),
                considerations=[{"when": c.when, "do": c.do} for c in module.considerations],
                retired=module.retired, source_file=module.source,
                translations={language: {**module_text(twin), **({"needs_review": True} if language in module.needs_review
                                                                   else {})} for language, twin in module.translations},
            )
            stored_track.modules.append(stored_module)
            for w_pos, sheet in enumerate(module.worksheets):
                stored_module.worksheets.append(Worksheet(
                    version=version, position=w_pos, code=sheet.code, title=sheet.title, intro=sheet.intro, pages=sheet.pages,
                    language=sheet.language, fields=[field_to_dict(f) for f in sheet.fields],
                    translations={language: worksheet_text(twin.worksheets[w_pos]) for language, twin in module.translations
                                  if w_pos < len(twin.worksheets)},
                ))
    db.session.flush()
    return version, True


def find_version(name: str, version: str | None = None, program_id: int | None = None) -> CurriculumVersion:
    """A version by curriculum name and version number or label (default: the newest published)."""
    stored = _find_curriculum(name, program_id)
    if stored is None and program_id is not None:
        stored = _find_curriculum(name, None)  # a program sees the shipped curricula too
    if stored is None:
        raise CurriculumNotFound(f"no curriculum named {name!r}")
    query = select(CurriculumVersion).where(CurriculumVersion.curriculum_id == stored.id)
    if version is None:
        query = query.where(CurriculumVersion.status == "published").order_by(CurriculumVersion.number.desc())
    elif version.isdigit():
        query = query.where(CurriculumVersion.number == int(version))
    else:
        query = query.where(CurriculumVersion.label == version).order_by(CurriculumVersion.number.desc())
    found = db.session.scalars(query.limit(1)).first()
    if found is None:
        raise CurriculumNotFound(f"curriculum {name!r} has no version {version!r}" if version else
                                 f"curriculum {name!r} has no published version")
    return found


def load_version(version_id: int) -> CurriculumVersion:
    """A version with its tracks, modules and worksheets loaded in a fixed number of queries."""
    version = db.session.scalar(
        select(CurriculumVersion).where(CurriculumVersion.id == version_id).options(
            selectinload(CurriculumVersion.curriculum),
            selectinload(CurriculumVersion.tracks).selectinload(Track.modules).selectinload(Module.worksheets),
        )
    )
    if version is None:
        raise CurriculumNotFound(f"no curriculum version {version_id}")
    return version


def to_domain(version: CurriculumVersion) -> dom.Curriculum:
    """The stored version as a domain Curriculum (what the sequencer, documents and export use)."""
    translations = version.translations or {}
    return dom.Curriculum(
        name=version.curriculum.name, title=version.title, version=version.label, language=version.language,
        description=version.description, credit_share=version.credit_share,
        pattern=tuple(dom.PatternSlot(**slot) for slot in version.pattern),
        translations=tuple((language, text["title"]) for language, text in sorted(translations.items())),
        descriptions=tuple((language, text.get("description", "")) for language, text in sorted(translations.items())),
        tracks=tuple(
            dom.Track(
                code=t.code, name=t.name, kind=t.kind, ordering=t.ordering, minutes=t.minutes, required=t.required,
                first_week=t.first_week, last_week=t.last_week, closing_discussion_minutes=t.closing_discussion_minutes,
                modules=tuple(domain_module(m) for m in t.modules),
                names=tuple((language, text["name"]) for language, text in sorted((t.translations or {}).items())),
            )
            for t in version.tracks
        ),
    )


# --- Added for the curricula screens: lists, checking a version before it is published, and the
# --- curriculum file format as a zip (upload and download). The functions above stay as they are.

def program_curricula(program_id: int) -> list[Curriculum]:
    """The shipped curricula and the program's own, each with its versions, in two queries."""
    return list(db.session.scalars(
        select(Curriculum).where(Curriculum.program_id.is_(None) | (Curriculum.program_id == program_id))
        .order_by(Curriculum.program_id.is_(None), Curriculum.title, Curriculum.id)
        .options(selectinload(Curriculum.versions))))


def visible_version(version_id: int, program_id: int) -> CurriculumVersion | None:
    """A version of a shipped curriculum or of the program's own; None for any other program's."""
    version = db.session.get(CurriculumVersion, version_id)
    if version is None or version.curriculum.program_id not in (None, program_id):
        return None
    return version


def latest_published(curriculum_id: int, before_number: int | None = None) -> CurriculumVersion | None:
    """The newest published version of a curriculum (below a version number, if given)."""
    query = select(CurriculumVersion).where(CurriculumVersion.curriculum_id == curriculum_id,
                                            CurriculumVersion.status == "published")
    if before_number is not None:
        query = query.where(CurriculumVersion.number < before_number)
    return db.session.scalars(query.order_by(CurriculumVersion.number.desc()).limit(1)).first()


# Checking: the file format's schema in plain words, then the validator the CLI runs -----------

_NOUNS = {"goals": N_("goals"), "outline": N_("outline steps"), "questions": N_("discussion questions"),
          "considerations": N_("considerations"), "fields": N_("fields"), "columns": N_("column headers"),
          "items": N_("checklist items"), "steps": N_("sequence steps"), "row_labels": N_("row labels"),
          "worksheets": N_("worksheets"), "tracks": N_("tracks"), "modules": N_("modules")}
_FORMS = {"code": N_("a code like RP 33 (letters, a space, a number)"),
          "id": N_("a form-field name of lower-case letters, digits and _ that starts with a letter"),
          "name": N_("a short name of lower-case letters, digits and dashes")}
# A problem message: (English template marked with N_, its params), as Problem takes them.
Message = tuple[str, tuple[tuple[str, Any], ...]]


def _path_words(path: tuple) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def plain_schema_message(error) -> Message:
    """A jsonschema error in the words a director reads ("add at least 3 goals (there are 1)"), as a
    message template and its params (`noun` and `form` are translated on the pages too)."""
    path = [p for p in error.path]
    last = next((p for p in reversed(path) if isinstance(p, str)), "")
    noun = _NOUNS.get(last, N_("entries"))
    value, limit = error.instance, error.validator_value
    if error.validator == "minItems":
        if len(value) == 1:
            return N_("add at least %(limit)s %(noun)s (there is %(count)s)"), (("limit", limit), ("noun", noun), ("count", 1))
        return N_("add at least %(limit)s %(noun)s (there are %(count)s)"), (("limit", limit), ("noun", noun),
                                                                            ("count", len(value)))
    if error.validator == "maxItems":
        return N_("keep to at most %(limit)s %(noun)s (there are %(count)s)"), (("limit", limit), ("noun", noun),
                                                                               ("count", len(value)))
    if error.validator == "minLength":
        if limit == 1 and not value:
            return N_("is empty"), ()
        return N_("is too short: write at least %(limit)s characters"), (("limit", limit),)
    if error.validator == "maxLength":
        return N_("is too long: at most %(limit)s characters"), (("limit", limit),)
    if error.validator == "minimum":
        return N_("must be at least %(limit)s"), (("limit", limit),)
    if error.validator == "maximum":
        return N_("must be at most %(limit)s"), (("limit", limit),)
    if error.validator == "required":
        missing = re.findall(r"'([a-z_]+)' is a required property", error.message)
        what = ", ".join(_NOUNS.get(m, m.replace("_", " ")) for m in missing) or "a value"
        return N_("needs %(what)s"), (("what", what),)
    if error.validator == "pattern":
        return N_("%(value)s should be %(form)s"), (("value", repr(value)),
                                                    ("form", _FORMS.get(last, N_("in the documented form"))))
    if error.validator == "enum":
        return N_("must be one of %(values)s"), (("values", ", ".join(map(str, limit))),)
    return error.message, ()


def _schema_problems(validator, data: dict, file: str) -> list[Problem]:
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path])
    out = []
    for e in errors:
        message, params = plain_schema_message(e)
        out.append(Problem(file, message, None, _path_words(tuple(e.path)), params=params))
    return out


def module_file(module: dom.Module) -> str:
    """What problems of a module name as its file: its source file, or its code for a new module."""
    return module.source or module.code


def check_curriculum(curriculum: dom.Curriculum) -> list[Problem]:
    """Every problem that blocks publishing: the schema of the file format, then the same rules as
    `facilitator curriculum validate` (domain.curriculum_rules.validate)."""
    # Only the manifest is needed here: render it from modules stripped to their file names (fast).
    bare = replace(curriculum, tracks=tuple(replace(t, modules=tuple(
        dom.Module(code=m.code, title=m.title, minutes=m.minutes, source=m.source) for m in t.modules))
        for t in curriculum.tracks))
    manifest = yaml.safe_load(render_files(bare)[MANIFEST])
    problems = _schema_problems(MANIFEST_SCHEMA, manifest, MANIFEST)
    for module in curriculum.modules():
        problems += _schema_problems(MODULE_SCHEMA, module_front_matter(module), module_file(module))
    return problems + validate(curriculum)


def domain_module(m: Module) -> dom.Module:
    """One stored module as a domain Module (as to_domain builds it), with its twins."""
    return dom.Module(
        code=m.code, title=m.title, minutes=m.minutes, goals=tuple(m.goals),
        outline=tuple(dom.OutlineStep(**s) for s in m.outline), key_points=m.key_points, questions=tuple(m.questions),
        considerations=tuple(dom.Consideration(**c) for c in m.considerations), retired=m.retired, source=m.source_file,
        worksheets=tuple(dom.Worksheet(code=w.code, title=w.title, intro=w.intro, pages=w.pages, language=w.language,
                                       fields=tuple(field_from_dict(f) for f in w.fields)) for w in m.worksheets),
        translations=tuple((language, stored_twin(m, language, text)) for language, text in sorted((m.translations or {}).items())),
        needs_review=tuple(sorted(language for language, text in (m.translations or {}).items() if text.get("needs_review"))))


def track_alone(track: Track, modules: list[Module] | None = None) -> dom.Curriculum:
    """One stored track (all its modules, or those given) as a domain curriculum: enough to check them
    without loading the whole version."""
    v = track.version
    return dom.Curriculum(
        name=v.curriculum.name, title=v.title, version=v.label, language=v.language, credit_share=v.credit_share,
        tracks=(dom.Track(code=track.code, name=track.name, kind=track.kind, ordering=track.ordering,
                          minutes=track.minutes, required=track.required, first_week=track.first_week,
                          last_week=track.last_week, closing_discussion_minutes=track.closing_discussion_minutes,
                          modules=tuple(domain_module(m) for m in (track.modules if modules is None else modules))),))


def check_module(curriculum: dom.Curriculum, code: str) -> list[Problem]:
    """The problems of one module alone (quick feedback while editing; publishing checks everything)."""
    track = next(t for t in curriculum.tracks if any(m.code == code for m in t.modules))
    module = curriculum.module(code)
    alone = replace(curriculum, tracks=(replace(track, modules=(module,)),), pattern=())
    return [p for p in check_curriculum(alone) if p.file == module_file(module)]


# The curriculum file format as a zip -------------------------------------------------------------

ZIP_MAX_BYTES = 4 * 1024 * 1024  # the upload itself; matrix-16 zips to about 150 KiB
ZIP_MAX_FILES = 500  # entries in the archive (matrix-16 has about 100 module files)
ZIP_MAX_TOTAL = 24 * 1024 * 1024  # all files unpacked
ZIP_IGNORED = ("README.md", "README", "LICENSE", "LICENSE.md")  # part of a curriculum folder, not read


class ZipRefused(ValueError):
    """The upload cannot be imported; `problems` lists every reason, each with its file and line."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems[:5]))
        self.problems = problems


def _entry_problem(name: str) -> str:
    """Why an archive entry is refused ("" if it is acceptable)."""
    if name.startswith("/") or "\\" in name or re.match(r"^[A-Za-z]:", name):
        return N_("absolute paths and backslashes are not allowed in the zip")
    if ".." in PurePosixPath(name).parts:
        return N_("paths may not contain '..'")
    return ""


def read_zip(data: bytes) -> dict[str, str]:
    """The text files of an uploaded curriculum zip as {path: text}, or ZipRefused with every problem.

    Only curriculum.yaml and modules/**/*.md are read (a README is allowed and skipped). One top
    folder around them (what zipping a folder makes) is accepted and removed."""
    if len(data) > ZIP_MAX_BYTES:
        raise ZipRefused([Problem("upload", N_("the zip is larger than %(size)s MiB"),
                                   params=(("size", ZIP_MAX_BYTES // (1024 * 1024)),))])
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ZipRefused([Problem("upload", N_("this is not a zip file"))]) from None
    if len(entries) > ZIP_MAX_FILES:
        raise ZipRefused([Problem("upload", N_("the zip holds %(count)s files; at most %(limit)s are allowed"),
                                   params=(("count", len(entries)), ("limit", ZIP_MAX_FILES)))])
    problems = [Problem(i.filename, why) for i in entries if (why := _entry_problem(i.filename))]
    if problems:
        raise ZipRefused(problems)
    tops = {i.filename.split("/", 1)[0] for i in entries}
    prefix = ""
    if len(tops) == 1 and all("/" in i.filename for i in entries) and not any(
            i.filename.startswith("modules/") for i in entries):
        prefix = tops.pop() + "/"
    files: dict[str, str] = {}
    total = 0
    for info in entries:
        name = info.filename[len(prefix):]
        if name in ZIP_IGNORED:
            continue
        if name != MANIFEST and not (name.startswith("modules/") and name.endswith(".md")):
            problems.append(Problem(info.filename, N_("only curriculum.yaml and modules/.../*.md files belong in the zip")))
            continue
        if info.file_size > MAX_FILE_BYTES:
            problems.append(Problem(name, N_("file is larger than %(size)s KiB"), params=(("size", MAX_FILE_BYTES // 1024),)))
            continue
        total += info.file_size
        if total > ZIP_MAX_TOTAL:
            raise ZipRefused([Problem("upload", N_("the files add up to more than %(size)s MiB"),
                                       params=(("size", ZIP_MAX_TOTAL // (1024 * 1024)),))])
        try:
            with archive.open(info) as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)  # never trust the size the archive claims
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
            problems.append(Problem(name, N_("the file cannot be read from the zip (damaged or encrypted)")))
            continue
        if len(raw) > MAX_FILE_BYTES:
            problems.append(Problem(name, N_("file is larger than %(size)s KiB"), params=(("size", MAX_FILE_BYTES // 1024),)))
            continue
        total += len(raw) - info.file_size  # count what was really unpacked
        try:
            files[name] = raw.decode("utf-8").replace("\r\n", "\n")
        except UnicodeDecodeError:
            problems.append(Problem(name, N_("the file is not UTF-8 text")))
    if problems:
        raise ZipRefused(problems)
    return files


def zip_name(version: CurriculumVersion) -> str:
    """The download name of a version's zip: <name>-<label>.zip with only safe characters."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{version.curriculum.name}-{version.label}") + ".zip"


def export_zip(version: CurriculumVersion) -> bytes:
    """A version in the curriculum file format, zipped; the same content gives the same bytes."""
    files = render_files(to_domain(load_version(version.id)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name].encode("utf-8"))
    return buffer.getvalue()


def curriculum_named(name: str, program_id: int | None) -> Curriculum | None:
    """The curriculum of this name owned by the program (None: the shipped one), if any."""
    return _find_curriculum(name, program_id)
