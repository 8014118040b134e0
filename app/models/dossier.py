"""The dossier: one per (client, product), opened by the simulator (DOMAIN A4)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, _enum, utcnow
from app.models.catalogue import Product
from app.models.simulation import Simulation
from app.models.user import User


class DossierStatus(enum.StrEnum):
    # DOMAIN A4, in workflow order; transitions are code (issue 4)
    PENDING_UPLOAD = "pending_upload"
    PENDING_ADMIN_VALIDATION = "pending_admin_validation"
    ADMIN_VALIDATED = "admin_validated"
    ADMIN_REJECTED = "admin_rejected"
    EXPERT_PENDING_ACCEPTANCE = "expert_pending_acceptance"
    EXPERT_ASSIGNED = "expert_assigned"
    DOCUMENTS_REQUESTED = "documents_requested"
    DOCUMENTS_SENT = "documents_sent"
    DOCUMENTS_VALIDATED = "documents_validated"
    DOCUMENTS_REFUSED = "documents_refused"
    AUDIT_IN_PROGRESS = "audit_in_progress"
    AUDIT_COMPLETED = "audit_completed"
    AUDIT_REJECTED_BY_CLIENT = "audit_rejected_by_client"
    AUDIT_VALIDATED = "audit_validated"
    SUBMITTED_TO_ADMINISTRATION = "submitted_to_administration"
    ADMINISTRATION_DECIDED = "administration_decided"
    REFUND_CONFIRMED = "refund_confirmed"
    FEE_PAYMENT_PENDING = "fee_payment_pending"
    COMPLETED = "completed"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"
    ARCHIVED = "archived"


# Before an expert holds the dossier, a re-simulation may update its estimate (DOMAIN B §3.5);
# from expert acceptance on, the expert's figures rule and the simulator leaves it alone.
ESTIMATE_UPDATABLE = frozenset(
    {
        DossierStatus.PENDING_UPLOAD,
        DossierStatus.PENDING_ADMIN_VALIDATION,
        DossierStatus.ADMIN_VALIDATED,
        DossierStatus.ADMIN_REJECTED,
        DossierStatus.EXPERT_PENDING_ACCEPTANCE,
    }
)


class Dossier(Base):
    __tablename__ = "dossiers"
    __table_args__ = (UniqueConstraint("client_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    simulation_id: Mapped[int | None] = mapped_column(
        ForeignKey("simulations.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[DossierStatus] = mapped_column(
        _enum(DossierStatus, "dossier_status"), default=DossierStatus.PENDING_UPLOAD, index=True
    )
    # integer cents; None for a qualitative product
    estimated_cents: Mapped[int | None]
    previous_estimated_cents: Mapped[int | None]
    # inputs, formula code and version, constants and intermediate values
    calculation: Mapped[dict] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(16), default="simulation")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(lazy="joined")
    client: Mapped[User] = relationship(foreign_keys=[client_id])
    simulation: Mapped[Simulation | None] = relationship()

    @property
    def has_activity(self) -> bool:
        """Work has started on it: a re-simulation must never delete it (DOMAIN A4)."""
        return self.status != DossierStatus.PENDING_UPLOAD


class DetailedEstimate(Base):
    """A run of the detailed TICPE questionnaire on a dossier (DOMAIN A3, B §2.3): the answers,
    the full result and the engine version, kept as a history next to the quick estimate."""

    __tablename__ = "detailed_estimates"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    engine: Mapped[str] = mapped_column(String(40), default="ticpe_detailed")
    version: Mapped[int] = mapped_column(default=1)
    inputs: Mapped[dict] = mapped_column(JSON)
    result: Mapped[dict] = mapped_column(JSON)
    amount_cents: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
