"""Store curricula in the database and read them back as domain objects."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..domain import curriculum as dom
from ..domain.curriculum_files import field_from_dict, field_to_dict
from ..extensions import db
from ..models_base import utcnow
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
        status="published" if publish else "draft", published_at=utcnow() if publish else None,
        published_by_id=getattr(user, "id", None) if publish else None,
    )
    db.session.add(version)
    for t_pos, track in enumerate(curriculum.tracks):
        stored_track = Track(
            position=t_pos, code=track.code, name=track.name, kind=track.kind,
            ordering=track.ordering, minutes=track.minutes, required=track.required, first_week=track.first_week,
            last_week=track.last_week, closing_discussion_minutes=track.closing_discussion_minutes,
        )
        version.tracks.append(stored_track)
        for m_pos, module in enumerate(track.modules):
            stored_module = Module(
                version=version, position=m_pos, code=module.code, title=module.title, minutes=module.minutes,
                goals=list(module.goals), outline=[{"minutes": s.minutes, "activity": s.activity} for s in module.outline],
                key_points=module.key_points, questions=list(module.questions),
                considerations=[{"when": c.when, "do": c.do} for c in module.considerations],
                retired=module.retired, source_file=module.source,
            )
            stored_track.modules.append(stored_module)
            for w_pos, sheet in enumerate(module.worksheets):
                stored_module.worksheets.append(Worksheet(
                    version=version, position=w_pos, code=sheet.code, title=sheet.title, intro=sheet.intro, pages=sheet.pages,
                    language=sheet.language, fields=[field_to_dict(f) for f in sheet.fields],
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
    return dom.Curriculum(
        name=version.curriculum.name, title=version.title, version=version.label, language=version.language,
        description=version.description, credit_share=version.credit_share,
        pattern=tuple(dom.PatternSlot(**slot) for slot in version.pattern),
        tracks=tuple(
            dom.Track(
                code=t.code, name=t.name, kind=t.kind, ordering=t.ordering, minutes=t.minutes, required=t.required,
                first_week=t.first_week, last_week=t.last_week, closing_discussion_minutes=t.closing_discussion_minutes,
                modules=tuple(
                    dom.Module(
                        code=m.code, title=m.title, minutes=m.minutes, goals=tuple(m.goals),
                        outline=tuple(dom.OutlineStep(**s) for s in m.outline), key_points=m.key_points,
                        questions=tuple(m.questions), considerations=tuple(dom.Consideration(**c) for c in m.considerations),
                        retired=m.retired, source=m.source_file,
                        worksheets=tuple(
                            dom.Worksheet(code=w.code, title=w.title, intro=w.intro, pages=w.pages, language=w.language,
                                          fields=tuple(field_from_dict(f) for f in w.fields))
                            for w in m.worksheets
                        ),
                    )
                    for m in t.modules
                ),
            )
            for t in version.tracks
        ),
    )
