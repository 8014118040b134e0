"""The dossier: one per (client, product), opened by the simulator (docs/domain.md §4)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, _enum, utcnow
from app.models.catalogue import Product
from app.models.notification import Priority
from app.models.simulation import Simulation
from app.models.user import User


class DossierStatus(enum.StrEnum):
    # docs/domain.md §4, in workflow order; transitions are code (issue 4)
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
    # the quote flow of partner products (docs/domain.md §4: CHRONO, SOLID, ELEC, GAZ)
    QUOTE_REQUESTED = "quote_requested"
    QUOTE_PROPOSED = "quote_proposed"
    QUOTE_REJECTED = "quote_rejected"
    QUOTE_ACCEPTED = "quote_accepted"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"
    ARCHIVED = "archived"


# Before an expert holds the dossier, a re-simulation may update its estimate (docs/domain.md §2);
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


# domain.md §4: partner products follow a five-step quote flow instead of the six financial steps
QUOTE_PRODUCTS = frozenset({"CHRONO", "SOLID", "ELEC", "GAZ"})


class Party(enum.StrEnum):
    """Who the dossier is waiting for (docs/domain.md §8: SLA clocks count from `waiting_since`)."""

    CLIENT = "client"
    ADMIN = "admin"
    EXPERT = "expert"
    ADMINISTRATION = "administration"
    NOBODY = "nobody"


class Decision(enum.StrEnum):
    ACCEPTED = "accepted"
    PARTIAL = "partial"
    REFUSED = "refused"


class Dossier(Base):
    __tablename__ = "dossiers"
    __table_args__ = (
        UniqueConstraint("client_id", "product_id"),
        Index("ix_dossiers_expert_status", "expert_id", "status"),
        Index("ix_dossiers_pending_expert", "pending_expert_id", "status"),
        Index("ix_dossiers_status_waiting", "status", "waiting_since"),
    )

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
    # an admin raises it; SLA policies may set tighter targets for it
    priority: Mapped[Priority] = mapped_column(
        _enum(Priority, "dossier_priority"), default=Priority.MEDIUM, server_default="medium"
    )
    # bumped by every transition: of two people acting on the same state, one wins
    version: Mapped[int] = mapped_column(default=1)
    # who must act now, and since when (reminders and SLA alerts count from here)
    waiting_on: Mapped[Party] = mapped_column(_enum(Party, "dossier_party"), default=Party.CLIENT)
    waiting_since: Mapped[datetime] = mapped_column(default=utcnow)
    # where a stopped dossier stopped: the status to go back to when an admin resumes a dossier
    # put on hold, and the step a cancelled one had reached (its progress shows that)
    held_status: Mapped[DossierStatus | None] = mapped_column(
        _enum(DossierStatus, "dossier_held_status")
    )
    eligibility_validated_at: Mapped[datetime | None]
    # expert assignment (docs/domain.md §4): chosen or proposed, then accepted within 48 h
    proposed_expert_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    proposal_message: Mapped[str | None] = mapped_column(Text)
    pending_expert_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    expert_selected_at: Mapped[datetime | None]
    expert_deadline_at: Mapped[datetime | None]
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expert_accepted_at: Mapped[datetime | None]
    # audit (domain.md §6): the expert's final amount and report, the fee negotiated within bounds
    final_cents: Mapped[int | None]
    audit_report: Mapped[str | None] = mapped_column(Text)
    negotiated_fee_bp: Mapped[int | None]
    audit_completed_at: Mapped[datetime | None]
    audit_validated_at: Mapped[datetime | None]
    # the rates of A5 in basis points (3000 = 30 %), snapshotted when the client validates
    client_fee_bp: Mapped[int | None]
    platform_fee_bp: Mapped[int | None]
    referrer_share_bp: Mapped[int | None]
    # submission and the administration's answer
    submitted_at: Mapped[datetime | None]
    submission_reference: Mapped[str | None] = mapped_column(String(80))
    administration: Mapped[str | None] = mapped_column(String(80))
    decision: Mapped[Decision | None] = mapped_column(_enum(Decision, "dossier_decision"))
    decided_cents: Mapped[int | None]
    decided_at: Mapped[datetime | None]
    # the refund actually received by the client: the base of every fee (A5)
    obtained_cents: Mapped[int | None]
    refund_reference: Mapped[str | None] = mapped_column(String(80))
    refunded_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # quote flow: the answers to the product's specific questions, then the partner's quote
    quote_answers: Mapped[dict | None] = mapped_column(JSON)
    quote_cents: Mapped[int | None]
    quote_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(lazy="joined")
    client: Mapped[User] = relationship(foreign_keys=[client_id])
    simulation: Mapped[Simulation | None] = relationship()
    # UPDATE … WHERE version = <read>: a concurrent writer raises StaleDataError instead of winning
    __mapper_args__ = {"version_id_col": version}
    expert: Mapped[User | None] = relationship(foreign_keys=[expert_id])
    pending_expert: Mapped[User | None] = relationship(foreign_keys=[pending_expert_id])
    proposed_expert: Mapped[User | None] = relationship(foreign_keys=[proposed_expert_id])

    @property
    def is_quote_flow(self) -> bool:
        return self.product.code in QUOTE_PRODUCTS

    def is_party(self, user: User) -> bool:
        """The client, the assigned expert or the expert asked to accept it."""
        return user.id in (self.client_id, self.expert_id, self.pending_expert_id)

    @property
    def has_activity(self) -> bool:
        """Work has started on it: a re-simulation must never delete it (docs/domain.md §4)."""
        return self.status != DossierStatus.PENDING_UPLOAD


class DetailedEstimate(Base):
    """A run of the detailed TICPE questionnaire on a dossier (docs/domain.md §2): the answers,
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

    @property
    def bounded(self) -> bool:
        """The 500 € – 100 000 € bounds moved the amount away from the formula's product."""
        uncapped = self.result.get("uncapped")
        return uncapped is not None and round(uncapped * 100) != self.amount_cents


class DossierEvent(Base):
    """The timeline: one row per transition (and per document event), never edited.

    A transition is also the outbox of its announcement: it records who was responsible and
    which expert held the dossier, and leaves `announced_at` empty until a worker has told the
    parties (system message, notifications, emails). Other events are announced where they are
    written, hence the default.
    """

    __tablename__ = "dossier_events"
    __table_args__ = (
        Index("ix_dossier_events_dossier_at", "dossier_id", "id"),
        # the sweep that catches a lost announcement reads only the few still waiting
        Index(
            "ix_dossier_events_unannounced",
            "created_at",
            postgresql_where=text("announced_at IS NULL"),
            sqlite_where=text("announced_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[str | None] = mapped_column(String(32))
    after: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    waiting_on: Mapped[Party | None] = mapped_column(_enum(Party, "dossier_event_party"))
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    announced_at: Mapped[datetime | None] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
