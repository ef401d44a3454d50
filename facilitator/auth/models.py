"""Users of the system: directors, facilitators and participants, each within one program."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models_base import one_of, utcnow
from ..programs.models import Program

ROLES = ("director", "facilitator", "participant")


class User(UserMixin, db.Model):
    """A person who signs in; a participant's account points at their participant record."""

    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL
    __table_args__ = (
        one_of("role", ROLES),
        CheckConstraint(
            "(role = 'participant' AND participant_id IS NOT NULL) OR "
            "(role <> 'participant' AND participant_id IS NULL)",
            name="participant_link",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(12))
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    program: Mapped[Program] = relationship()

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password, never the password."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True if the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        """Whether the account may sign in."""
        return self.active

    @property
    def is_staff(self) -> bool:
        """Directors and facilitators: the people who see participants' records."""
        return self.role in ("director", "facilitator")
