"""What the admin analytics read instead of the raw tables: per-day facts and the dossiers counted
per status, both kept by the events that change them (`services.analytics.facts`); the reports
an owner saves and schedules, each run's file; a dossier's pack of documents built on demand."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, _enum, utcnow
from app.models.user import User


class DailyFact(Base):
    """One cell: how many times `metric` happened on a Paris `day` for these dimensions, and the
    sum of its amount (cents, minutes or days, per metric). 0 / '' stand for "none" so the key
    is a plain primary key that an upsert can add to."""

    __tablename__ = "daily_facts"

    day: Mapped[date] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(24), primary_key=True)
    product_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=0)
    expert_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=0)
    firm_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=0)
    referrer_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=0)
    region: Mapped[str] = mapped_column(String(3), primary_key=True, default="")
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)

    # the pages read a metric over a range of days, then group by one dimension
    __table_args__ = (Index("ix_daily_facts_metric_day", "metric", "day"),)


class DailyTotal(Base):
    """The same facts without the people: per day, metric, product and département. Pages that
    neither filter nor group by expert, firm or referrer read these (tens of rows a day, where
    the people make thousands)."""

    __tablename__ = "daily_totals"

    day: Mapped[date] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(24), primary_key=True)
    product_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=0)
    region: Mapped[str] = mapped_column(String(3), primary_key=True, default="")
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (Index("ix_daily_totals_metric_day", "metric", "day"),)


class DossierCount(Base):
    """Dossiers per status and product right now: the dashboard's "by status and step"."""

    __tablename__ = "dossier_counts"

    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class Frequency(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class ReportFormat(enum.StrEnum):
    XLSX = "xlsx"
    PDF = "pdf"


class SavedReport(Base):
    """An analytics view with its filters, sent on a schedule read in the owner's time zone."""

    __tablename__ = "saved_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    view: Mapped[str] = mapped_column(String(24))
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    frequency: Mapped[Frequency] = mapped_column(_enum(Frequency, "report_frequency"))
    weekday: Mapped[int | None]  # 0 = Monday, for weekly
    month_day: Mapped[int | None]  # 1–31, for monthly (a short month uses its last day)
    hour: Mapped[int] = mapped_column(default=7)
    tz: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    recipients: Mapped[list] = mapped_column(JSON, default=list)
    format: Mapped[ReportFormat] = mapped_column(_enum(ReportFormat, "report_format"))
    active: Mapped[bool] = mapped_column(default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship()


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ReportRun(Base):
    """One sending of a report: the file stays downloadable for 90 days."""

    __tablename__ = "report_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("saved_reports.id", ondelete="CASCADE"), index=True
    )
    # the slot this run fills (UTC); "send now" runs have their own moment
    scheduled_for: Mapped[datetime]
    manual: Mapped[bool] = mapped_column(default=False)
    status: Mapped[RunStatus] = mapped_column(
        _enum(RunStatus, "report_run_status"), default=RunStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    storage_key: Mapped[str | None] = mapped_column(String(80))
    filename: Mapped[str | None] = mapped_column(String(160))
    size: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]

    report: Mapped[SavedReport] = relationship()

    # a slot is filled once, however many sweeps see it due
    __table_args__ = (UniqueConstraint("report_id", "scheduled_for"),)


class DossierPack(Base):
    """A dossier's summary, simulation, timeline, documents, audit and invoices as Word and PDF."""

    __tablename__ = "dossier_packs"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[RunStatus] = mapped_column(
        _enum(RunStatus, "dossier_pack_status"), default=RunStatus.QUEUED
    )
    progress: Mapped[int] = mapped_column(default=0)
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    docx_key: Mapped[str | None] = mapped_column(String(80))
    pdf_key: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.FAILED)
