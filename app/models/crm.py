"""The sales side (docs/domain.md A11): the admin-configured request form and its versions, the
leads it (and the simulator, the referrers, the contact page) brings in, their pipeline history,
and the activities sellers log on a lead or a client."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, _enum, utcnow


class LeadStage(enum.StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    PROPOSAL = "proposal"
    WON = "won"
    LOST = "lost"


OPEN_STAGES = (LeadStage.NEW, LeadStage.CONTACTED, LeadStage.QUALIFIED, LeadStage.PROPOSAL)


class LeadSource(enum.StrEnum):
    REQUEST_FORM = "request_form"
    SIMULATOR = "simulator"
    REFERRER = "referrer"
    CONTACT = "contact"
    MANUAL = "manual"  # typed in by a seller


class ActivityKind(enum.StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    NOTE = "note"
    TASK = "task"


class RequestFormVersion(Base):
    """One saved configuration of the request form. Versions are never edited: an admin's save
    writes a new one, so every submission can be read with the questions it answered."""

    __tablename__ = "request_form_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # [{key, label, kind, required, options: [{value, label}], show_if: {field, value} | None,
    #   pricing: a pricing parameter | None, min, max, help}], in display order
    fields: Mapped[list] = mapped_column(JSON, default=list)
    plan_code: Mapped[str] = mapped_column(String(32))  # the plan the estimate is priced on
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (
        # the board: the newest cards of each column; the list: by stage, owner and source
        Index("ix_leads_stage", "stage", "id"),
        Index("ix_leads_owner_stage", "owner_id", "stage", "id"),
        Index("ix_leads_source", "source", "id"),
        Index("ix_leads_created", "created_at"),
        # "longest in their stage", within a stage or over all of them
        Index("ix_leads_stage_age", "stage", "stage_changed_at", "id"),
        Index("ix_leads_stage_changed", "stage_changed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)  # lower-cased
    siren: Mapped[str | None] = mapped_column(String(9), index=True)
    company: Mapped[str] = mapped_column(String(160), default="")
    contact_name: Mapped[str] = mapped_column(String(160), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[LeadSource] = mapped_column(_enum(LeadSource, "lead_source"))
    stage: Mapped[LeadStage] = mapped_column(_enum(LeadStage, "lead_stage"), default=LeadStage.NEW)
    lost_reason: Mapped[str] = mapped_column(String(300), default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    referrer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # the client account a won lead became (its history stays here)
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # what the simulator found, copied: a visitor's simulation is purged after a while
    simulation_id: Mapped[int | None] = mapped_column(
        ForeignKey("simulations.id", ondelete="SET NULL")
    )
    simulation_results: Mapped[list | None] = mapped_column(JSON)
    simulation_total_cents: Mapped[int | None]
    # the latest request-form estimate: the plan and the monthly price before VAT
    plan_code: Mapped[str] = mapped_column(String(32), default="")
    estimate_cents: Mapped[int | None]
    won_cents: Mapped[int | None]  # the yearly amount signed, for the won-per-month figures
    stage_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None]

    owner = relationship("User", foreign_keys=[owner_id], lazy="joined")

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def display_name(self) -> str:
        return self.company or self.contact_name or self.email


class LeadSubmission(Base):
    """A request-form submission, with the version of the form it answered."""

    __tablename__ = "lead_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("request_form_versions.id"))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # what the pricing function got
    plan_code: Mapped[str] = mapped_column(String(32))
    estimate_cents: Mapped[int | None]  # monthly, before VAT; None: priced on request
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    form_version = relationship(RequestFormVersion, lazy="joined")


class LeadEvent(Base):
    """The lead's history: created, submitted again, moved, assigned, invited, converted. Stage
    moves carry both stages, which the analytics read for the time spent in each."""

    __tablename__ = "lead_events"
    __table_args__ = (
        Index("ix_lead_events_lead", "lead_id", "id"),
        Index("ix_lead_events_kind", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    from_stage: Mapped[str] = mapped_column(String(16), default="")
    to_stage: Mapped[str] = mapped_column(String(16), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor = relationship("User", lazy="joined")


class Activity(Base):
    """A call, email, meeting, note or task on a lead or a client; a task has a due date and is
    done or not."""

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint(
            "lead_id IS NOT NULL OR client_id IS NOT NULL", name="activity_has_subject"
        ),
        Index("ix_activities_lead", "lead_id", "id"),
        Index("ix_activities_client", "client_id", "id"),
        # "my activities today and overdue": the open tasks of a seller by due date
        Index("ix_activities_owner_due", "owner_id", "done_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[ActivityKind] = mapped_column(_enum(ActivityKind, "activity_kind"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]  # an overdue task is chased once (`remind_overdue`)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner = relationship("User", foreign_keys=[owner_id], lazy="joined")

    @property
    def is_task(self) -> bool:
        return self.kind == ActivityKind.TASK

    @property
    def is_late(self) -> bool:
        return (
            self.is_task
            and self.done_at is None
            and self.due_at is not None
            and (self.due_at < utcnow())
        )


class RoundRobin(Base):
    """Who got the last lead of a pool: the next goes to the following member."""

    __tablename__ = "round_robins"

    pool: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_user_id: Mapped[int] = mapped_column(default=0)
