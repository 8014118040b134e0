"""Accounts: one User table with a role, and one profile per role."""

from __future__ import annotations

import enum
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_login import UserMixin
from sqlalchemy import Computed, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import PARIS, Base, _enum, utcnow

# domain.md §2, question GENERAL_001: the sector list is shared by clients, experts and referrers.
SECTORS: tuple[str, ...] = (
    "Transport et Logistique",
    "Commerce et Distribution",
    "Industrie et Fabrication",
    "Services aux Entreprises",
    "BTP et Construction",
    "Restauration et Hôtellerie",
    "Santé et Services Sociaux",
    "Agriculture et Agroalimentaire",
    "Services à la Personne",
    "Autre secteur",
)


class Role(enum.StrEnum):
    CLIENT = "client"
    EXPERT = "expert"
    REFERRER = "apporteur"
    ADMIN = "admin"


class ApprovalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ReferrerStatus(enum.StrEnum):
    # docs/domain.md §9
    CANDIDATURE = "candidature"
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


class CompanyType(enum.StrEnum):
    INDEPENDANT = "independant"
    SALARIE = "salarie"
    PARTENAIRE = "partenaire"
    AGENCE = "agence"
    CALL_CENTER = "call_center"


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

    # the signed-in browser this object was loaded for (set by `app.services.sessions`): the
    # cookie names a random key whose row can be revoked, never anything derived from the user
    login_key = None  # str: not a column
    login_session_id = None  # int: not a column

    def get_id(self) -> str:
        if self.login_key is None:
            raise RuntimeError("open a login session first (app.services.sessions.open)")
        return f"{self.id}:{self.login_key}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

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


class _Completeness:
    """Profile completeness: the share of the fields a profile should have that are filled in."""

    COMPLETENESS_FIELDS: tuple[str, ...] = ()

    @property
    def missing_fields(self) -> list[str]:
        return [f for f in self.COMPLETENESS_FIELDS if getattr(self, f) in (None, "", [])]

    @property
    def completeness(self) -> int:
        total = len(self.COMPLETENESS_FIELDS)
        return round(100 * (total - len(self.missing_fields)) / total) if total else 100


class ClientProfile(_Completeness, Base):
    __tablename__ = "client_profiles"
    COMPLETENESS_FIELDS = (
        "company_name",
        "siren",
        "sector",
        "employees",
        "turnover",
        "address",
        "postal_code",
        "city",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    company_name: Mapped[str] = mapped_column(String(160))
    siren: Mapped[str] = mapped_column(String(9), index=True)
    sector: Mapped[str] = mapped_column(String(64), index=True)
    employees: Mapped[int | None]
    turnover: Mapped[int | None]  # euros per year, exact
    address: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    # the referrer who brought this client (their referral link); domain.md §1 `ClientProfile.referrer_id`
    referrer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    user: Mapped[User] = relationship(back_populates="client_profile", foreign_keys=[user_id])
    referrer: Mapped[User | None] = relationship(foreign_keys=[referrer_id])


# The expert's own share of the marketplace relevance score (domain.md §9), × 20: rating × 5 (the
# average × 100 / 20, up to 25 points), completed dossiers (up to 20) and the rating band (up
# to 15). The product's speciality level and the client's sector are added per search.
RELEVANCE_BASE_SQL = (
    "rating_x100"
    " + 20 * (CASE WHEN completed_count >= 20 THEN 20 WHEN completed_count >= 10 THEN 15"
    " WHEN completed_count >= 5 THEN 10 WHEN completed_count >= 1 THEN 5 ELSE 0 END)"
    " + 20 * (CASE WHEN rating_x100 >= 450 THEN 15 WHEN rating_x100 >= 400 THEN 12"
    " WHEN rating_x100 >= 350 THEN 8 WHEN rating_x100 >= 300 THEN 4 ELSE 0 END)"
)


class ExpertProfile(_Completeness, Base):
    __tablename__ = "expert_profiles"
    COMPLETENESS_FIELDS = (
        "firm_name",
        "city",
        "languages",
        "years_experience",
        "bio",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    firm_name: Mapped[str | None] = mapped_column(String(160))
    city: Mapped[str | None] = mapped_column(String(100))
    languages: Mapped[str | None] = mapped_column(String(120))  # comma-separated ISO codes
    years_experience: Mapped[int | None]
    bio: Mapped[str | None] = mapped_column(Text)
    approval_status: Mapped[ApprovalStatus] = mapped_column(
        _enum(ApprovalStatus, "approval_status"), default=ApprovalStatus.PENDING
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # the fee asked of clients in basis points (3000 = 30 %), at most the platform default
    fee_bp: Mapped[int] = mapped_column(default=3000)
    # maximum active dossiers (docs/domain.md §4 max_clients) and whether new ones are welcome now
    capacity: Mapped[int] = mapped_column(default=10)
    available: Mapped[bool] = mapped_column(default=True)
    department: Mapped[str | None] = mapped_column(String(3), index=True)
    certifications: Mapped[str | None] = mapped_column(Text)  # one per line
    # kept up to date by the reviews service: the marketplace sorts and filters on them
    rating_x100: Mapped[int] = mapped_column(default=0)  # average rating × 100 (0–500)
    rating_count: Mapped[int] = mapped_column(default=0)
    completed_count: Mapped[int] = mapped_column(default=0)
    # dossiers taken and not finished, kept by workflow.transition (and recounted nightly):
    # "has capacity" is then a column comparison, not a count over every dossier
    active_dossiers: Mapped[int] = mapped_column(default=0)
    # the part of the marketplace's relevance score owed to the expert alone, in twentieths of
    # a point so it stays an integer: the database keeps it, and an index in its order lets
    # the directory's default listing read its first page instead of scoring every expert
    relevance_base: Mapped[int] = mapped_column(Computed(RELEVANCE_BASE_SQL, persisted=True))
    firm_id: Mapped[int | None] = mapped_column(
        ForeignKey("firms.id", ondelete="SET NULL"), index=True
    )

    user: Mapped[User] = relationship(back_populates="expert_profile", foreign_keys=[user_id])
    products: Mapped[list[ExpertProduct]] = relationship(
        back_populates="expert", cascade="all, delete-orphan"
    )
    sectors: Mapped[list[ExpertSector]] = relationship(cascade="all, delete-orphan")
    firm: Mapped[Firm | None] = relationship()

    @property
    def rating(self) -> float:
        return self.rating_x100 / 100

    __table_args__ = (
        Index("ix_expert_profiles_approval", "approval_status", "id"),
        # listed experts best first, read backwards as the marketplace pages them (score, then
        # id, both descending)
        Index(
            "ix_expert_profiles_relevance",
            "relevance_base",
            "id",
            postgresql_where=text("approval_status = 'approved'"),
            sqlite_where=text("approval_status = 'approved'"),
        ),
    )


class ExpertSector(Base):
    """A sector an expert knows well: a filter, and a bonus when it is the client's."""

    __tablename__ = "expert_sectors"
    __table_args__ = (
        UniqueConstraint("expert_id", "sector"),
        Index("ix_expert_sectors_sector", "sector", "expert_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert_profiles.id", ondelete="CASCADE"))
    sector: Mapped[str] = mapped_column(String(64))


class FirmRole(enum.StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    EXPERT = "expert"
    ASSISTANT = "assistant"


class Firm(Base):
    """A firm of experts. Its owner sets, per product, the lowest fee its experts may negotiate
    (docs/domain.md §6: no minimum for a product = no negotiation) and sees the team's dossiers."""

    __tablename__ = "firms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[FirmMember]] = relationship(
        back_populates="firm", cascade="all, delete-orphan"
    )
    product_fees: Mapped[list[FirmProduct]] = relationship(cascade="all, delete-orphan")

    def min_fee_bp(self, product_id: int) -> int | None:
        return next((p.min_fee_bp for p in self.product_fees if p.product_id == product_id), None)


class FirmMember(Base):
    __tablename__ = "firm_members"
    __table_args__ = (UniqueConstraint("user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[FirmRole] = mapped_column(_enum(FirmRole, "firm_role"))

    firm: Mapped[Firm] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    REVOKED = "revoked"


class FirmInvitation(Base):
    """A firm asks an expert to join; the expert decides from their own account. Membership
    (and with it the firm's sight of the expert's dossiers) exists only once they accept."""

    __tablename__ = "firm_invitations"
    __table_args__ = (
        # one open invitation per (firm, expert): asking twice is one question
        Index(
            "ix_firm_invitations_open",
            "firm_id",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[FirmRole] = mapped_column(_enum(FirmRole, "firm_role"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[InvitationStatus] = mapped_column(
        _enum(InvitationStatus, "invitation_status"), default=InvitationStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    firm: Mapped[Firm] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class FirmProduct(Base):
    __tablename__ = "firm_products"
    __table_args__ = (UniqueConstraint("firm_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    min_fee_bp: Mapped[int | None]


class ExpertiseLevel(enum.StrEnum):
    # docs/domain.md §4: the level weighs in the match score (expert 40 … beginner 10)
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"
    EXPERT = "expert"


class ExpertProduct(Base):
    """A product an expert handles, with their level: only holders are offered a dossier."""

    __tablename__ = "expert_products"
    __table_args__ = (
        UniqueConstraint("expert_id", "product_id"),
        # the marketplace reads a product's holders, their level and whether active from the
        # index alone (PostgreSQL; SQLite ignores INCLUDE)
        Index(
            "ix_expert_products_product_expert",
            "product_id",
            "expert_id",
            postgresql_include=["level", "active"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(
        ForeignKey("expert_profiles.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    level: Mapped[ExpertiseLevel] = mapped_column(
        _enum(ExpertiseLevel, "expertise_level"), default=ExpertiseLevel.INTERMEDIATE
    )
    active: Mapped[bool] = mapped_column(default=True)
    # the partner quote requests for this product are routed to (docs/domain.md §4 "automatic")
    distributor: Mapped[bool] = mapped_column(default=False)

    expert: Mapped[ExpertProfile] = relationship(back_populates="products")


class ReferrerProfile(_Completeness, Base):
    __tablename__ = "referrer_profiles"
    COMPLETENESS_FIELDS = (
        "company_name",
        "company_type",
        "sector",
        "siren",
        "motivation_letter",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    company_name: Mapped[str | None] = mapped_column(String(160))
    company_type: Mapped[CompanyType] = mapped_column(_enum(CompanyType, "company_type"))
    sector: Mapped[str | None] = mapped_column(String(64))
    siren: Mapped[str | None] = mapped_column(String(9))
    motivation_letter: Mapped[str | None] = mapped_column(Text)
    sponsor_code: Mapped[str | None] = mapped_column(String(9))
    sponsor_id: Mapped[int | None] = mapped_column(
        ForeignKey("referrer_profiles.id", ondelete="SET NULL")
    )
    # AFF + 6 digits, given on approval
    affiliation_code: Mapped[str | None] = mapped_column(String(9), unique=True)
    target_monthly: Mapped[int | None]
    # the CV sent with the application (domain.md §9 cv_file_path): a storage key, read by admins
    cv_key: Mapped[str | None] = mapped_column(String(200))
    cv_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ReferrerStatus] = mapped_column(
        _enum(ReferrerStatus, "referrer_status"),
        default=ReferrerStatus.PENDING_APPROVAL,
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(back_populates="referrer_profile", foreign_keys=[user_id])

    __table_args__ = (Index("ix_referrer_profiles_status", "status", "id"),)


class UserSession(Base):
    """One signed-in browser. Its cookie (and remember-me cookie) carries a random key; only
    the key's hash is stored. Logout, a password change or reset, or "log out of all my
    devices" set `revoked_at`, and the cookie opens nothing from then on."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class PasswordResetToken(Base):
    """Single-use reset token: the emailed link carries a signed (id, nonce); we keep a hash."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    nonce_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed logins counted per key: `ip:<address>`, `account:<hash of the email>` or
    `device:<id>` (a browser that has logged in to that account before). Past a few free
    attempts each failure doubles the wait (capped), never a lock: a success or a password
    reset clears the count, and a day without failures forgets it."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    locked_until: Mapped[datetime | None]
