"""One profile per role: what a client, an expert and a referrer tell about themselves."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Computed, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, _enum
from app.models.user import User

if TYPE_CHECKING:
    from app.models.firm import Firm


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
    # the referrer who brought this client (their referral link), domain.md §10
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
    # where commissions are paid (A9), check-digit validated when typed
    iban: Mapped[str | None] = mapped_column(String(34))
    iban_holder: Mapped[str | None] = mapped_column(String(70))
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
