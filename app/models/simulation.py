"""A run of the simulator: the answers as given, then the computed results."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, _enum, utcnow


class SimulationStatus(enum.StrEnum):
    DRAFT = "draft"
    COMPLETED = "completed"


class FunnelStep(enum.StrEnum):
    STARTED = "started"
    ANSWERED = "answered"  # with the question code
    COMPLETED = "completed"
    ACCOUNT_CREATED = "account_created"


class Simulation(Base):
    __tablename__ = "simulations"
    __table_args__ = (Index("ix_simulations_user_status", "user_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # the visitor's handle (kept in their session); random, so ids cannot be guessed
    token: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[SimulationStatus] = mapped_column(
        _enum(SimulationStatus, "simulation_status"), default=SimulationStatus.DRAFT
    )
    source: Mapped[str] = mapped_column(String(16), default="web")  # web | api
    # {"QUESTION_CODE": value}: numbers as numbers, multiple choices as lists
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # one entry per active product: see services.simulations.evaluate()
    results: Mapped[list | None] = mapped_column(JSON)
    total_cents: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None]


class FunnelEvent(Base):
    """Simulator analytics: one row per step reached (unique), so refreshes do not inflate it."""

    __tablename__ = "funnel_events"
    __table_args__ = (
        Index("uq_funnel_events_step", "simulation_id", "step", "question_code", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    simulation_id: Mapped[int] = mapped_column(ForeignKey("simulations.id", ondelete="CASCADE"))
    step: Mapped[FunnelStep] = mapped_column(_enum(FunnelStep, "funnel_step"))
    question_code: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
