"""Business calendars, SLA policies and the clocks they start, and the alerts a late clock opens
(docs/domain.md A7; reference/peers.md §6). The arithmetic is `app.services.sla.calendars`."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import PARIS, Base, _enum, utcnow
from app.models.dossier import Party
from app.models.notification import Priority
from app.models.user import User


class BusinessCalendar(Base):
    """When someone works. One platform default; an expert or a firm may have its own."""

    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    tz: Mapped[str] = mapped_column(String(64), default=PARIS.key)
    # public holidays: "FR", "57" (Alsace-Moselle: Good Friday and 26 December), None: none
    region: Mapped[str | None] = mapped_column(String(8), default="FR")
    is_default: Mapped[bool] = mapped_column(default=False)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    firm_id: Mapped[int | None] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    intervals: Mapped[list[CalendarInterval]] = relationship(
        cascade="all, delete-orphan",
        order_by="(CalendarInterval.weekday, CalendarInterval.start_minute)",
        lazy="selectin",
    )
    closures: Mapped[list[CalendarClosure]] = relationship(
        cascade="all, delete-orphan", order_by="CalendarClosure.start_date", lazy="selectin"
    )


class CalendarInterval(Base):
    """A working span on a weekday, in the calendar's local time (several a day: lunch)."""

    __tablename__ = "calendar_intervals"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),
        CheckConstraint("start_minute >= 0 AND start_minute < end_minute", name="span"),
        CheckConstraint("end_minute <= 1440", name="end_in_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int]
    start_minute: Mapped[int]
    end_minute: Mapped[int]


class CalendarClosure(Base):
    """Days off beyond public holidays: a bridge day, an expert's leave (both dates included)."""

    __tablename__ = "calendar_closures"
    __table_args__ = (CheckConstraint("start_date <= end_date", name="order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="CASCADE"), index=True
    )
    start_date: Mapped[date]
    end_date: Mapped[date]
    reason: Mapped[str] = mapped_column(String(160), default="")


class SlaMetric(enum.StrEnum):
    # the responsible party's first move after it became responsible (once per dossier)
    FIRST_RESPONSE = "first_response"
    # each client message waits for the next human reply (one cycle per message round)
    NEXT_RESPONSE = "next_response"
    # from entering a step to reaching one of the stop steps
    REACH_STEP = "reach_step"
    # the whole dossier, from a start step to completion, paused while others are waited for
    RESOLUTION = "resolution"


class SlaPolicy(Base):
    """Targets for the dossiers it matches; by rank, the first matching active policy wins.
    An empty condition matches everything. Edits bump `version` and apply to new clocks."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    rank: Mapped[int] = mapped_column(default=100)
    active: Mapped[bool] = mapped_column(default=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    client_plan: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[Priority | None] = mapped_column(_enum(Priority, "sla_policy_priority"))
    # None: the responsible party's own calendar (theirs, their firm's, or the default)
    calendar_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    targets: Mapped[list[SlaTarget]] = relationship(
        cascade="all, delete-orphan", order_by="SlaTarget.id", lazy="selectin"
    )


class SlaTarget(Base):
    __tablename__ = "sla_targets"
    __table_args__ = (
        UniqueConstraint("policy_id", "code"),
        CheckConstraint("business_minutes > 0", name="positive"),
        CheckConstraint("warn_before_minutes IS NULL OR warn_before_minutes > 0", name="warn"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id", ondelete="CASCADE"))
    # what is awaited, as the original named it (B §6.4): expert_pending_acceptance, …
    code: Mapped[str] = mapped_column(String(40))
    metric: Mapped[SlaMetric] = mapped_column(_enum(SlaMetric, "sla_metric"))
    party: Mapped[Party] = mapped_column(_enum(Party, "sla_party"))
    start_status: Mapped[str | None] = mapped_column(String(32))
    stop_statuses: Mapped[list] = mapped_column(JSON, default=list)
    pause_statuses: Mapped[list] = mapped_column(JSON, default=list)
    business_minutes: Mapped[int]
    # None: 25 % of the target or two business hours, whichever is smaller (peers.md §6.3)
    warn_before_minutes: Mapped[int | None]


class ClockStatus(enum.StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    SATISFIED = "satisfied"
    CANCELLED = "cancelled"


class Level(enum.IntEnum):
    """The escalation ladder (peers.md §6.3): each step once per clock."""

    NONE = 0
    WARNED = 1
    BREACHED = 2
    SECOND = 3
    THIRD = 4


class SlaClock(Base):
    """One target running on one dossier. The due and warning instants are stored for indexed
    sweeps; `next_check_at` is the next of them still to come (None: nothing left to do)."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        UniqueConstraint("dossier_id", "code", "cycle"),
        # the sweep reads only what has come due: one range on this index, never a scan
        Index("ix_sla_clocks_due", "status", "next_check_at"),
        # "at risk in the next two business hours", the overdue to remind: ranges on due_at
        Index("ix_sla_clocks_status_due_at", "status", "due_at"),
        Index("ix_sla_clocks_responsible", "responsible_id", "status"),
        CheckConstraint("paused_seconds >= 0", name="paused"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("sla_targets.id", ondelete="SET NULL"))
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL")
    )
    policy_version: Mapped[int] = mapped_column(default=1)
    code: Mapped[str] = mapped_column(String(40))
    metric: Mapped[SlaMetric] = mapped_column(_enum(SlaMetric, "sla_clock_metric"))
    party: Mapped[Party] = mapped_column(_enum(Party, "sla_clock_party"))
    # the person waited for (None: the admins as a team)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # the calendar its times are counted in (the responsible party's when it started)
    calendar_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="SET NULL")
    )
    cycle: Mapped[int] = mapped_column(default=1)
    # the target as it was when the clock started: later policy edits do not rewrite it
    budget_minutes: Mapped[int]
    warn_before_minutes: Mapped[int]
    pause_statuses: Mapped[list] = mapped_column(JSON, default=list)
    stop_statuses: Mapped[list] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    warn_at: Mapped[datetime]
    paused_since: Mapped[datetime | None]
    paused_seconds: Mapped[int] = mapped_column(default=0)
    status: Mapped[ClockStatus] = mapped_column(
        _enum(ClockStatus, "sla_clock_status"), default=ClockStatus.RUNNING
    )
    level: Mapped[int] = mapped_column(default=Level.NONE)
    next_check_at: Mapped[datetime | None]
    satisfied_at: Mapped[datetime | None]
    # sticky: a breach stays recorded even when the clock is satisfied later
    breached_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # business time it took, pauses left out (set when it ends; the marketplace figures)
    worked_seconds: Mapped[int | None]

    responsible: Mapped[User | None] = relationship()

    @property
    def open(self) -> bool:
        return self.status in (ClockStatus.RUNNING, ClockStatus.PAUSED)


class SlaEvent(Base):
    """A rung of the ladder reached by a clock; the unique key makes each one happen once,
    whatever retries or concurrent sweeps do."""

    __tablename__ = "sla_events"
    __table_args__ = (UniqueConstraint("clock_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("sla_clocks.id", ondelete="CASCADE"))
    level: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Alert(Base):
    """A breached clock, for people to act on (the alert centre). One per clock; it climbs the
    ladder with it and closes itself when the clock is satisfied or cancelled."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_status_opened", "status", "opened_at"),
        Index("ix_alerts_responsible", "responsible_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_clocks.id", ondelete="CASCADE"), unique=True
    )
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(default=Level.BREACHED)
    party: Mapped[Party] = mapped_column(_enum(Party, "alert_party"))
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firms.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(40))
    status: Mapped[AlertStatus] = mapped_column(
        _enum(AlertStatus, "alert_status"), default=AlertStatus.OPEN
    )
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # closed by the platform because its condition cleared (no one has to tidy up)
    closed_by_itself: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    clock: Mapped[SlaClock | None] = relationship()
    responsible: Mapped[User | None] = relationship(foreign_keys=[responsible_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    notes: Mapped[list[AlertNote]] = relationship(
        cascade="all, delete-orphan", order_by="AlertNote.id"
    )


class AlertNote(Base):
    __tablename__ = "alert_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()


class ReminderRule(Base):
    """A daily reminder by action type (B §6.5): at J+`days` in that situation, remind these
    recipients at this level. Sent at 09:00; each (dossier, situation entry, rule) once."""

    __tablename__ = "reminder_rules"
    __table_args__ = (
        UniqueConstraint("action_type", "days"),
        CheckConstraint("days > 0", name="days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_type: Mapped[str] = mapped_column(String(40))
    # the dossier statuses this situation is (what the action type is derived from)
    statuses: Mapped[list] = mapped_column(JSON, default=list)
    days: Mapped[int]
    # reminder, reminder_escalated, reminder_critical, reminder_escalation_max
    level: Mapped[str] = mapped_column(String(32))
    priority: Mapped[Priority] = mapped_column(
        _enum(Priority, "reminder_rule_priority"), default=Priority.MEDIUM
    )
    recipients: Mapped[list] = mapped_column(JSON, default=list)  # client, expert, admin
    active: Mapped[bool] = mapped_column(default=True)


class ReminderLog(Base):
    """A daily reminder sent: the unique key is what makes a rerun send nothing."""

    __tablename__ = "reminder_logs"
    __table_args__ = (UniqueConstraint("dossier_id", "rule_id", "since"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("reminder_rules.id", ondelete="CASCADE"))
    # when the dossier entered the situation: a later return to it is a new series
    since: Mapped[datetime]
    recipients: Mapped[list] = mapped_column(JSON, default=list)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderCadence(Base):
    """How a pending item is chased (peers.md §6.4): after these business days in the
    recipient's calendar, at most `max_count` times. Keyed by the clock code of the item."""

    __tablename__ = "reminder_cadences"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    offsets_days: Mapped[list] = mapped_column(JSON, default=list)
    max_count: Mapped[int] = mapped_column(default=3)
    active: Mapped[bool] = mapped_column(default=True)


class ReminderStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    SENT = "sent"
    CANCELLED = "cancelled"


class Reminder(Base):
    """The n-th reminder of a pending item (the clock waiting on its recipient). It is sent
    only if the item still waits when it comes due; otherwise it is cancelled, never sent."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("clock_id", "n"),
        Index("ix_reminders_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("sla_clocks.id", ondelete="CASCADE"))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    n: Mapped[int] = mapped_column(default=1)
    due_at: Mapped[datetime]
    status: Mapped[ReminderStatus] = mapped_column(
        _enum(ReminderStatus, "reminder_status"), default=ReminderStatus.SCHEDULED
    )
    # "manual": someone pressed "send a reminder now"; "cadence": the schedule
    source: Mapped[str] = mapped_column(String(16), default="cadence")
    sent_at: Mapped[datetime | None]
    cancelled_reason: Mapped[str | None] = mapped_column(String(40))


class ExpertSlaFigures(Base):
    """An expert's measured punctuality over the last 90 days, from their clocks (not
    declared): computed nightly, shown on the marketplace from 5 measured clocks."""

    __tablename__ = "expert_sla_figures"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    measured: Mapped[int] = mapped_column(default=0)
    on_time: Mapped[int] = mapped_column(default=0)
    first_response_median_minutes: Mapped[int | None]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def first_response_median(self) -> timedelta | None:
        m = self.first_response_median_minutes
        return timedelta(minutes=m) if m is not None else None

    @property
    def on_time_percent(self) -> int:
        return round(100 * self.on_time / self.measured) if self.measured else 0


class RecomputeStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class SlaRecompute(Base):
    """An admin's "recompute open clocks" after editing policies or calendars: a job walks the
    open clocks and reports its progress here (the page's progress bar)."""

    __tablename__ = "sla_recomputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[RecomputeStatus] = mapped_column(
        _enum(RecomputeStatus, "sla_recompute_status"), default=RecomputeStatus.QUEUED
    )
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def percent(self) -> int:
        if self.status == RecomputeStatus.DONE:
            return 100
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (RecomputeStatus.DONE, RecomputeStatus.FAILED)
