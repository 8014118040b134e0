"""Accounts: one User table with a role; each role has its profile (app.models.profiles)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask_login import UserMixin
from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import PARIS, Base, _enum, utcnow

if TYPE_CHECKING:
    from app.models.profiles import ClientProfile, ExpertProfile, ReferrerProfile


class Role(enum.StrEnum):
    CLIENT = "client"
    EXPERT = "expert"
    REFERRER = "apporteur"
    ADMIN = "admin"
    SALES = "sales"  # the CRM and the support tickets (A11)
    SUPPORT = "support"  # the support tickets only


STAFF = frozenset({Role.ADMIN, Role.SALES, Role.SUPPORT})


def full_name(first_name: str, last_name: str) -> str:
    """How a person is named on every page (also for rows read without their `User`)."""
    return f"{first_name} {last_name}".strip()


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        # the few deactivated accounts: the marketplace leaves them out with one small lookup
        # instead of joining every listed expert to their account
        Index(
            "ix_users_inactive",
            "id",
            postgresql_where=text("NOT active"),
            sqlite_where=text("NOT active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # always stored lower-cased, so the unique index is case-insensitive on every database
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"), index=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    timezone: Mapped[str] = mapped_column(String(64), default=PARIS.key)
    active: Mapped[bool] = mapped_column(default=True)
    email_verified_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    client_profile: Mapped[ClientProfile | None] = relationship(
        back_populates="user",
        uselist=False,
        cascade="all, delete-orphan",
        foreign_keys="ClientProfile.user_id",
    )
    expert_profile: Mapped[ExpertProfile | None] = relationship(
        back_populates="user",
        uselist=False,
        cascade="all, delete-orphan",
        foreign_keys="ExpertProfile.user_id",
    )
    referrer_profile: Mapped[ReferrerProfile | None] = relationship(
        back_populates="user",
        uselist=False,
        cascade="all, delete-orphan",
        foreign_keys="ReferrerProfile.user_id",
    )

    # the signed-in browser this object was loaded for (set by `accounts.sessions`): the cookie
    # names a random key whose row can be revoked, never anything derived from the user
    login_key = None  # str: not a column
    login_session_id = None  # int: not a column

    def get_id(self) -> str:
        if self.login_key is None:
            raise RuntimeError("open a login session first (app.services.accounts.sessions.open)")
        return f"{self.id}:{self.login_key}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_staff(self) -> bool:
        """The platform's own people: admins, sellers and support agents."""
        return self.role in STAFF

    @property
    def full_name(self) -> str:
        return full_name(self.first_name, self.last_name)

    @property
    def zone(self) -> ZoneInfo:
        """Where the user's hours are counted (quiet hours, the digest's hour)."""
        return ZoneInfo(self.timezone) if self.timezone else PARIS

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def profile(self) -> ClientProfile | ExpertProfile | ReferrerProfile | None:
        # only the role's own relationship is touched: each of the others is a query for None
        name = _PROFILE_OF.get(self.role)
        return getattr(self, name) if name else None


_PROFILE_OF = {
    Role.CLIENT: "client_profile",
    Role.EXPERT: "expert_profile",
    Role.REFERRER: "referrer_profile",
}
