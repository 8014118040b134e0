"""Saved reports: an analytics view with its filters, sent on a schedule read in the owner's time
zone (07:00 in Paris stays 07:00 across a change of hour), each run kept with its file for 90
days. The cron sweep turns due slots into runs (one per slot, whatever the sweeps); the exports
worker builds, stores and emails each, tries twice more on failure, then tells the owner.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.core import storage
from app.core.errors import NotFound, ValidationFailed
from app.core.jobs import enqueue
from app.extensions import db
from app.models import Frequency, ReportFormat, ReportRun, RunStatus, SavedReport, User, utcnow
from app.realtime import notify
from app.security import analytics_scope, can_view_report, require
from app.services import notifications
from app.services.analytics import exports, reports
from app.services.analytics.figures import Filters
from app.services.notifications import emails
from app.services.sla.alerts import runs_firm

log = logging.getLogger(__name__)

KEEP = timedelta(days=90)
RETRY_AFTER = (timedelta(minutes=1), timedelta(minutes=5))  # then the run has failed
MAX_RECIPIENTS = 10
SAVED_FILTERS = ("product", "expert", "firm", "region")


# -- when ---------------------------------------------------------------------------------------


def _matches(report: SavedReport, day: date) -> bool:
    if report.frequency == Frequency.DAILY:
        return True
    if report.frequency == Frequency.WEEKLY:
        return day.weekday() == report.weekday
    last = calendar.monthrange(day.year, day.month)[1]
    return day.day == min(report.month_day or 1, last)


def next_run(report: SavedReport, after: datetime) -> datetime:
    """The first slot strictly after `after` (UTC): the report's hour on a matching day of its
    zone. An hour the clocks skip (02:30 on the spring change) is read with the offset before
    the change, so it runs once, an hour later by the wall; an hour that happens twice runs at
    the first."""
    zone = ZoneInfo(report.tz)
    day = after.astimezone(zone).date()
    for i in range(0, 400):
        candidate = day + timedelta(days=i)
        if not _matches(report, candidate):
            continue
        at = datetime.combine(candidate, time(report.hour), zone).astimezone(UTC)
        if at > after:
            return at
    raise ValueError("no slot within a year")  # cannot happen: every frequency matches monthly


def period_for(report: SavedReport, slot: datetime) -> tuple[date, date]:
    """The full period before the run's day: yesterday, the 7 days before, the month before."""
    day = slot.astimezone(ZoneInfo(report.tz)).date()
    end = day - timedelta(days=1)
    if report.frequency == Frequency.DAILY:
        return end, end
    if report.frequency == Frequency.WEEKLY:
        return day - timedelta(days=7), end
    first = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    return first, day.replace(day=1) - timedelta(days=1)


# -- saving --------------------------------------------------------------------------------------


def email_problem(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return True
    return False


def _problems(owner: User, data: dict) -> dict[str, str]:
    problems = {}
    if not 1 <= len(data["name"]) <= 120:
        problems["name"] = _l("Give the report a name (120 characters at most).")
    if (
        data["view"] not in reports.VIEWS
        or analytics_scope(owner, data["view"], runs_firm(owner)) is None
    ):
        problems["view"] = _l("Choose one of the views offered.")
    if data["frequency"] not in {f.value for f in Frequency}:
        problems["frequency"] = _l("Choose daily, weekly or monthly.")
    if data["frequency"] == Frequency.WEEKLY and data["weekday"] not in range(7):
        problems["weekday"] = _l("Choose the day of the week.")
    if data["frequency"] == Frequency.MONTHLY and data["month_day"] not in range(1, 32):
        problems["month_day"] = _l(
            "Choose a day between 1 and 31 (a shorter month uses its last day)."
        )
    if data["hour"] not in range(24):
        problems["hour"] = _l("Choose an hour between 0 and 23.")
    try:
        ZoneInfo(data["tz"])
    except (ZoneInfoNotFoundError, ValueError):
        problems["tz"] = _l("Choose a time zone from the list.")
    if data["format"] not in {f.value for f in ReportFormat}:
        problems["format"] = _l("Choose Excel or PDF.")
    recipients = data["recipients"]
    if not recipients:
        problems["recipients"] = _l("Give at least one email address.")
    elif len(recipients) > MAX_RECIPIENTS:
        problems["recipients"] = _l("Ten addresses at most.")
    elif any(email_problem(r) for r in recipients):
        bad = next(r for r in recipients if email_problem(r))
        problems["recipients"] = _l("“%(address)s” is not an email address.", address=bad[:60])
    return problems


def save(owner: User, data: dict, at: datetime | None = None) -> SavedReport:
    """Save a report from the fields a form declared (ValidationFailed with the reasons)."""
    problems = _problems(owner, data)
    if problems:
        raise ValidationFailed(**{k: str(v) for k, v in problems.items()})
    report = SavedReport(
        owner_id=owner.id,
        name=data["name"],
        view=data["view"],
        filters={k: v for k, v in data["filters"].items() if k in SAVED_FILTERS and v},
        frequency=Frequency(data["frequency"]),
        weekday=data["weekday"] if data["frequency"] == Frequency.WEEKLY else None,
        month_day=data["month_day"] if data["frequency"] == Frequency.MONTHLY else None,
        hour=data["hour"],
        tz=data["tz"],
        recipients=data["recipients"],
        format=ReportFormat(data["format"]),
    )
    report.next_run_at = next_run(report, at or utcnow())
    db.session.add(report)
    db.session.commit()
    return report


def get(viewer: User, report_id: int) -> SavedReport:
    report = db.session.get(SavedReport, report_id)
    require(report is not None and can_view_report(viewer, report))
    return report


def owned_by(viewer: User) -> list[SavedReport]:
    return list(
        db.session.scalars(
            db.select(SavedReport).where(SavedReport.owner_id == viewer.id).order_by(SavedReport.id)
        )
    )


def runs_of(report: SavedReport, limit: int = 20) -> list[ReportRun]:
    return list(
        db.session.scalars(
            db.select(ReportRun)
            .where(ReportRun.report_id == report.id)
            .order_by(ReportRun.id.desc())
            .limit(limit)
        )
    )


def delete(viewer: User, report_id: int) -> None:
    report = get(viewer, report_id)
    for key in db.session.scalars(
        db.select(ReportRun.storage_key).where(
            ReportRun.report_id == report.id, ReportRun.storage_key.is_not(None)
        )
    ):
        storage.delete(key)
    db.session.delete(report)
    db.session.commit()


def run_file(viewer: User, run_id: int) -> ReportRun:
    run = db.session.get(ReportRun, run_id)
    require(
        run is not None
        and can_view_report(viewer, run.report)
        and run.status == RunStatus.DONE
        and run.storage_key is not None
    )
    return run


# -- running -------------------------------------------------------------------------------------


def _enqueue(run_id: int, at: datetime | None = None) -> None:
    enqueue(
        "exports",
        "app.services.analytics.jobs.deliver_report",
        run_id,
        at=at,
        job_id=f"report-run-{run_id}-{int((at or utcnow()).timestamp())}",
    )


def send_now(viewer: User, report_id: int) -> ReportRun:
    """A run outside the schedule, to see what the recipients will get."""
    report = get(viewer, report_id)
    run = ReportRun(report_id=report.id, scheduled_for=utcnow(), manual=True)
    db.session.add(run)
    db.session.commit()
    _enqueue(run.id)
    return run


def run_due(at: datetime | None = None, batch: int = 200) -> int:
    """Each due report gets its run for the slot and moves to its next slot (slots missed
    while the cron was down are not replayed one by one: the next one is after `at`)."""
    at = at or utcnow()
    due = db.session.scalars(
        db.select(SavedReport)
        .where(SavedReport.active.is_(True), SavedReport.next_run_at <= at)
        .order_by(SavedReport.next_run_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    created = []
    for report in due:
        slot = report.next_run_at
        report.next_run_at = next_run(report, at)
        try:
            with db.session.begin_nested():
                run = ReportRun(report_id=report.id, scheduled_for=slot)
                db.session.add(run)
            created.append(run)
        except IntegrityError:  # that slot already has its run
            pass
    db.session.commit()
    for run in created:
        _enqueue(run.id)
    return len(created)


def filters_for(report: SavedReport, slot: datetime) -> Filters:
    start, end = period_for(report, slot)
    saved = report.filters or {}
    f = Filters(
        start,
        end,
        saved.get("product"),
        saved.get("expert"),
        saved.get("firm"),
        saved.get("region"),
    )
    # what the owner may read today, not when they saved it
    scope = analytics_scope(report.owner, report.view, runs_firm(report.owner))
    if scope is None:
        raise NotFound()
    return replace(f, **scope) if scope else f


def deliver(run_id: int) -> bool:
    """Build, store and email one run. A failure is retried twice (1 min, then 5 min later);
    the third tells the owner."""
    run = db.session.get(ReportRun, run_id)
    if run is None or run.status in (RunStatus.DONE, RunStatus.FAILED):
        return False
    report = run.report
    run.status, run.attempts = RunStatus.RUNNING, run.attempts + 1
    db.session.commit()
    try:
        with force_locale(report.owner.locale):
            built = reports.build(report.view, filters_for(report, run.scheduled_for))
            fmt = report.format.value
            data = exports.BUILDERS[fmt](built, exports.filter_labels(built))
            name = exports.filename(built, fmt)
        key = storage.save("reports", data, fmt)
        run.storage_key, run.filename, run.size = key, name, len(data)
        run.status, run.finished_at = RunStatus.DONE, utcnow()
        for address in report.recipients:
            emails.queue_email_to(
                address,
                report.owner.locale,
                "report_ready",
                report=report,
                run=run,
                attachments=[{"key": key, "filename": name, "mime": exports.MIME[fmt]}],
            )
        db.session.commit()
        notify.to_user(report.owner_id, "report:changed", report_id=report.id)
        return True
    except Exception as exc:
        db.session.rollback()
        run = db.session.get(ReportRun, run_id)
        run.error = f"{type(exc).__name__}: {exc}"[:300]
        log.exception("report run %s failed (attempt %s)", run_id, run.attempts)
        if run.attempts <= len(RETRY_AFTER):
            run.status = RunStatus.QUEUED
            db.session.commit()
            _enqueue(run.id, at=utcnow() + RETRY_AFTER[run.attempts - 1])
            return False
        run.status, run.finished_at = RunStatus.FAILED, utcnow()
        _tell_owner(run)
        notify.to_user(run.report.owner_id, "report:changed", report_id=run.report_id)
        db.session.commit()
        return False


def _tell_owner(run: ReportRun) -> None:
    report = run.report
    link = emails.external_url("analytics.report", report_id=report.id)
    notifications.create(
        report.owner,
        "report_failed",
        _l("The report “%(name)s” could not be sent", name=report.name),
        _l("It was tried three times. The last error: %(error)s", error=run.error or ""),
        link=link,
        object_ref=f"report-run:{run.id}",
    )
    emails.queue_email(report.owner, "report_failed", report=report, run=run, link=link)


def purge_old_runs(at: datetime | None = None, batch: int = 500) -> int:
    """Runs older than 90 days go, with their files."""
    limit = (at or utcnow()) - KEEP
    runs = db.session.scalars(
        db.select(ReportRun).where(ReportRun.created_at < limit).limit(batch)
    ).all()
    for run in runs:
        storage.delete(run.storage_key)
        db.session.delete(run)
    db.session.commit()
    return len(runs)
