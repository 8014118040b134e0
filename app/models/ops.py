"""Operations (A12): each component's health over time, the pulse of the live metrics, the
alert rules staff define and the alerts they open."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, _enum, utcnow
from app.models.user import User


class HealthState(enum.StrEnum):
    OK = "ok"
    DEGRADED = "degraded"  # answers, but over a threshold (a queue's age, the disk filling)
    DOWN = "down"
    SKIPPED = "skipped"  # not configured here (no payment provider, no separate realtime)


class HealthCheck(Base):
    """One component's check at one moment: the status page's current line and its 24 h strip."""

    __tablename__ = "health_checks"
    __table_args__ = (Index("ix_health_checks_slot_component", "slot", "component"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    component: Mapped[str] = mapped_column(String(40))
    state: Mapped[HealthState] = mapped_column(_enum(HealthState, "health_state"))
    latency_ms: Mapped[float] = mapped_column(default=0.0)
    detail: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # for the 24 h strip, grouped in SQL: the half-hour since the epoch, and how bad (0 ok or
    # skipped, 1 degraded, 2 down)
    slot: Mapped[int] = mapped_column(default=0)
    rank: Mapped[int] = mapped_column(default=0)


class PulseSample(Base):
    """The live metrics at one moment ({"requests_per_min": 12.0, ...}), for LivePulse's lines."""

    __tablename__ = "pulse_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    values: Mapped[dict] = mapped_column(JSON, default=dict)


class Comparison(enum.StrEnum):
    ABOVE = "above"
    BELOW = "below"


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertRule(Base):
    """When `metric` stays above (or below) `threshold` for `duration_s`, an alert opens and the
    chosen channels hear of it once."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    metric: Mapped[str] = mapped_column(String(40))
    comparison: Mapped[Comparison] = mapped_column(_enum(Comparison, "alert_comparison"))
    threshold: Mapped[float]
    duration_s: Mapped[int] = mapped_column(default=0)
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "alert_severity"))
    # any of "inapp", "email", "slack", "sms"
    channels: Mapped[list] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    # shipped with the platform (`install_defaults` tops them up, never overwrites an edit)
    default_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    # since when the condition holds (None: it does not); the evaluator keeps it
    breaching_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertState(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"  # by staff
    CLEARED = "cleared"  # closed by itself: the condition no longer holds


ACTIVE_ALERT_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


class ServiceAlert(Base):
    """An alert a rule opened: at most one active per rule, so channels are told once."""

    __tablename__ = "service_alerts"
    __table_args__ = (Index("ix_service_alerts_rule_state", "rule_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    state: Mapped[AlertState] = mapped_column(
        _enum(AlertState, "service_alert_state"), default=AlertState.OPEN, index=True
    )
    value: Mapped[float]  # the metric when it opened
    opened_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # {"inapp": "sent", "slack": "failed: HTTP 500", ...}: what each channel answered
    deliveries: Mapped[dict] = mapped_column(JSON, default=dict)

    rule: Mapped[AlertRule] = relationship(lazy="joined")
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])


class DataExportStatus(enum.StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


class DataExport(Base):
    """A user's copy of their personal data (RGPD art. 15 and 20): a ZIP built by a worker,
    downloadable by them alone until it expires."""

    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[DataExportStatus] = mapped_column(
        _enum(DataExportStatus, "data_export_status"), default=DataExportStatus.QUEUED
    )
    storage_key: Mapped[str | None] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)


class ErasureStatus(enum.StrEnum):
    PENDING = "pending"
    CANCELLED = "cancelled"  # by the user
    REFUSED = "refused"  # by an admin, with the reason
    DONE = "done"


class ErasureRequest(Base):
    """A user's request to be forgotten (RGPD art. 17); an admin confirms it, then the account
    is anonymised and what the law keeps (invoices, payments) stays."""

    __tablename__ = "erasure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[ErasureStatus] = mapped_column(
        _enum(ErasureStatus, "erasure_status"), default=ErasureStatus.PENDING, index=True
    )
    reason: Mapped[str] = mapped_column(String(1000), default="")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(String(1000), default="")
    # what the erasure did, table by table ({"messages": 12, ...}), for the audit
    summary: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class FormEvent(enum.StrEnum):
    """What a visitor did on a form (or on one of its steps, when `step` names it)."""

    VIEW = "view"  # the form (or a step) was shown
    START = "start"  # the first input of a visit (a beacon with JavaScript, else the first send)
    ANSWER = "answer"  # a step answered (total_ms: the time spent on it)
    ERROR = "error"  # a send refused (per field: that field was wrong)
    SUBMIT = "submit"  # a send, accepted or not
    COMPLETE = "complete"  # the form done (total_ms: from the view)
    ABANDON = "abandon"  # left without sending (a beacon), at the step it was on


class FormStat(Base):
    """Form analytics (A12) as counts only: per Paris day, form, step and event, how many and
    their summed milliseconds. No visitor, session or answer is stored."""

    __tablename__ = "form_stats"
    __table_args__ = (Index("uq_form_stats_cell", "form", "day", "step", "event", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(20))
    day: Mapped[date]
    step: Mapped[str] = mapped_column(String(60), default="")  # "" for the form as a whole
    event: Mapped[FormEvent] = mapped_column(_enum(FormEvent, "form_event"))
    n: Mapped[int] = mapped_column(default=0)
    total_ms: Mapped[int] = mapped_column(BigInteger, default=0)
