"""Curricula as stored: a version holds tracks, modules and worksheets; published ones never change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..extensions import db
from ..models_base import one_of, utcnow

VERSION_STATUSES = ("draft", "published")
TRACK_KINDS = ("group", "family", "individual")
TRACK_ORDERINGS = ("rotating", "pool", "as-needed")


class Curriculum(db.Model):
    """A named program of care; shipped curricula have no program, forks belong to one."""

    __tablename__ = "curriculum"
    __table_args__ = (UniqueConstraint("program_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("program.id"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[CurriculumVersion]] = relationship(
        back_populates="curriculum", order_by="CurriculumVersion.number"
    )


class CurriculumVersion(db.Model):
    """A snapshot of a curriculum: a draft until published, immutable afterwards."""

    __tablename__ = "curriculum_version"
    __table_args__ = (
        UniqueConstraint("curriculum_id", "number"),
        one_of("status", VERSION_STATUSES),
        CheckConstraint("credit_share > 0 AND credit_share <= 1", name="credit_share_range"),
        CheckConstraint("(status = 'published') = (published_at IS NOT NULL)", name="published_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    curriculum_id: Mapped[int] = mapped_column(ForeignKey("curriculum.id"), index=True)
    number: Mapped[int]
    label: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("curriculum_version.id"))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2), default="en")
    credit_share: Mapped[float] = mapped_column(default=0.75)
    pattern: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    change_summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Other languages of the version's text: {"es": {"title": ..., "description": ...}}.
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    curriculum: Mapped[Curriculum] = relationship(back_populates="versions")
    tracks: Mapped[list[Track]] = relationship(
        back_populates="version", order_by="Track.position", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        """Published versions are immutable."""
        return self.status == "published"


class Track(db.Model):
    """A strand of a curriculum version with its own sequence of modules."""

    __tablename__ = "track"
    __table_args__ = (
        UniqueConstraint("version_id", "code"),
        one_of("kind", TRACK_KINDS),
        one_of("ordering", TRACK_ORDERINGS),
        CheckConstraint("minutes > 0 AND minutes <= 480", name="minutes_range"),
        CheckConstraint("first_week >= 1", name="first_week_positive"),
        CheckConstraint("last_week IS NULL OR last_week >= first_week", name="week_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("curriculum_version.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(12))
    ordering: Mapped[str] = mapped_column(String(12))
    minutes: Mapped[int]
    required: Mapped[bool]
    first_week: Mapped[int] = mapped_column(default=1)
    last_week: Mapped[int | None]
    closing_discussion_minutes: Mapped[int] = mapped_column(default=0)
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"es": {"name": ...}}

    version: Mapped[CurriculumVersion] = relationship(back_populates="tracks")
    modules: Mapped[list[Module]] = relationship(
        back_populates="track", order_by="Module.position", cascade="all, delete-orphan"
    )


class Module(db.Model):
    """One session topic: goals, facilitator guide, minutes, worksheets."""

    __tablename__ = "module"
    __table_args__ = (
        UniqueConstraint("version_id", "code"),
        CheckConstraint("minutes > 0 AND minutes <= 480", name="minutes_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("curriculum_version.id", ondelete="CASCADE"), index=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(100))
    minutes: Mapped[int]
    goals: Mapped[list[str]] = mapped_column(JSON, default=list)
    outline: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    key_points: Mapped[str] = mapped_column(Text, default="")
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    considerations: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    retired: Mapped[bool] = mapped_column(default=False)
    source_file: Mapped[str] = mapped_column(String(200), default="")
    # The module's text in other languages: {"es": {"title", "goals", "outline", "key_points",
    # "questions", "considerations"}}.
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    version: Mapped[CurriculumVersion] = relationship()
    track: Mapped[Track] = relationship(back_populates="modules")
    worksheets: Mapped[list[Worksheet]] = relationship(
        back_populates="module", order_by="Worksheet.position", cascade="all, delete-orphan"
    )


class Worksheet(db.Model):
    """A printable handout with structured fields (stored as the file format's field list)."""

    __tablename__ = "worksheet"
    __table_args__ = (
        UniqueConstraint("version_id", "code"),
        CheckConstraint("pages BETWEEN 1 AND 4", name="pages_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("curriculum_version.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(100))
    intro: Mapped[str] = mapped_column(Text, default="")
    pages: Mapped[int] = mapped_column(default=1)
    language: Mapped[str] = mapped_column(String(2), default="en")
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"es": {"title", "intro", "fields"}}

    version: Mapped[CurriculumVersion] = relationship()
    module: Mapped[Module] = relationship(back_populates="worksheets")


class PublishedVersionChanged(RuntimeError):
    """Raised when a flush would change content of a published curriculum version."""


def _version_of(obj: object) -> CurriculumVersion | None:
    if isinstance(obj, CurriculumVersion):
        return obj
    if isinstance(obj, Track):
        return obj.version
    if isinstance(obj, Module):
        return obj.track.version if obj.track else None
    if isinstance(obj, Worksheet):
        return obj.module.track.version if obj.module and obj.module.track else None
    return None


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_published(session: Session, flush_context: object, instances: object) -> None:
    """History stays true: content of a published version is never updated or deleted."""
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        version = _version_of(obj)
        if version is None or version in session.new:
            continue  # a version being created (import, publish of a fork) may be filled freely
        if obj in session.dirty and not session.is_modified(obj):
            continue
        if isinstance(obj, CurriculumVersion):
            history = db.inspect(obj).attrs.status.history
            was_published = (history.deleted or [obj.status])[0] == "published"
            if was_published:
                raise PublishedVersionChanged(f"curriculum version {obj.id} is published and cannot change")
        elif version.is_published:
            raise PublishedVersionChanged(f"{type(obj).__name__} {getattr(obj, 'code', obj)} belongs to a published version")
