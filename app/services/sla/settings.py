"""Admin settings of the SLA: calendars (hours, holidays region, closures), policies and their
targets, reminder cadences; and an expert's own hours and leave. Every field is validated
before anything is saved (nothing half-saved), every change is audited, and an edit applies
to new clocks; "recompute open clocks" (a job) applies it to the running ones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from app.core import audit
from app.core.errors import ValidationFailed
from app.extensions import db
from app.models import (
    BusinessCalendar,
    CalendarClosure,
    CalendarInterval,
    Dossier,
    Priority,
    Product,
    RecomputeStatus,
    ReminderCadence,
    Role,
    SlaClock,
    SlaPolicy,
    SlaRecompute,
    User,
    utcnow,
)
from app.realtime import notify
from app.security import require
from app.services.sla import calendars, clocks, policies

DAYS = range(7)
_SPAN = re.compile(r"^\s*(\d{1,2})[:h](\d{2})\s*[-–]\s*(\d{1,2})[:h](\d{2})\s*$")
_CLOSURE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:\s*(?:\.\.|→|au)\s*(\d{4}-\d{2}-\d{2}))?\s*(.*)$")
REGIONS = ("FR", "57", "")


# -- calendars -----------------------------------------------------------------------------------


def hours_text(calendar: BusinessCalendar) -> dict[int, str]:
    """Each weekday's intervals as the form shows them: "09:00-12:30, 14:00-18:00"."""
    found = {d: [] for d in DAYS}
    for i in calendar.intervals:
        found[i.weekday].append(f"{_hm(i.start_minute)}-{_hm(i.end_minute)}")
    return {d: ", ".join(v) for d, v in found.items()}


def closures_text(calendar: BusinessCalendar) -> str:
    lines = []
    for c in calendar.closures:
        span = c.start_date.isoformat()
        if c.end_date != c.start_date:
            span += f"..{c.end_date.isoformat()}"
        lines.append(f"{span} {c.reason}".strip())
    return "\n".join(lines)


def _hm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass
class CalendarForm:
    hours: dict[int, str]
    region: str
    closures: str
    name: str = ""


def _parse_calendar(form: CalendarForm) -> tuple[list, list, dict]:
    errors: dict[str, str] = {}
    intervals = []
    for day in DAYS:
        text = (form.hours.get(day) or "").strip()
        for part in filter(None, (p.strip() for p in text.split(","))):
            m = _SPAN.match(part)
            if not m:
                errors[f"day{day}"] = _("Write each interval as 09:00-12:30, separated by commas.")
                break
            h1, m1, h2, m2 = map(int, m.groups())
            if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
                errors[f"day{day}"] = _("This time does not exist.")
                break
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if not start < end <= 24 * 60:
                errors[f"day{day}"] = _("An interval must end after it starts, within the day.")
                break
            intervals.append((day, start, end))
    if not errors:
        for day in DAYS:
            spans = sorted((a, b) for d, a, b in intervals if d == day)
            if any(b > c for (_a, b), (c, _d) in zip(spans, spans[1:], strict=False)):
                errors[f"day{day}"] = _("These intervals overlap.")
        if not intervals and not errors:
            errors["day0"] = _("Give at least one working interval in the week.")
    closures = []
    for n, line in enumerate((form.closures or "").splitlines(), start=1):
        if not line.strip():
            continue
        m = _CLOSURE.match(line)
        try:
            start = date.fromisoformat(m.group(1)) if m else None
            end = date.fromisoformat(m.group(2)) if m and m.group(2) else start
        except ValueError:
            start = None
        if start is None or end < start:
            errors["closures"] = _(
                "Line %(n)d: write a date (2027-05-07) or a range (2027-08-02..2027-08-20), "
                "then the reason.",
                n=n,
            )
            break
        closures.append((start, end, m.group(3).strip()[:160]))
    if form.region not in REGIONS:
        errors["region"] = _("Choose a holiday region from the list.")
    return intervals, closures, errors


def save_calendar(actor: User, calendar: BusinessCalendar, form: CalendarForm, ip=None):
    """Replace a calendar's hours, region and closures.

    :raises ValidationFailed: per field; nothing is saved."""
    intervals, closures, errors = _parse_calendar(form)
    if form.name is not None and calendar.user_id is None and not form.name.strip():
        errors["name"] = _("Give the calendar a name.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), **errors)
    if calendar.user_id is None:
        calendar.name = form.name.strip()[:120] or calendar.name
    calendar.region = form.region or None
    calendar.intervals = [
        CalendarInterval(weekday=d, start_minute=a, end_minute=b) for d, a, b in intervals
    ]
    calendar.closures = [
        CalendarClosure(start_date=a, end_date=b, reason=r) for a, b, r in closures
    ]
    calendar.updated_at = utcnow()  # the clocks' cached value of it is rebuilt
    db.session.add(calendar)
    db.session.flush()
    audit.record(
        actor,
        "sla.calendar",
        "calendar",
        calendar.id,
        ip,
        intervals=len(intervals),
        closures=len(closures),
        region=calendar.region,
    )
    db.session.commit()
    return calendar


def default_calendar() -> BusinessCalendar:
    return db.session.scalar(db.select(BusinessCalendar).where(BusinessCalendar.is_default))


def own_calendar(expert: User) -> BusinessCalendar:
    """An expert's own hours and leave, started from the platform's (not saved until edited)."""
    require(expert.role == Role.EXPERT)
    found = db.session.scalar(
        db.select(BusinessCalendar).where(BusinessCalendar.user_id == expert.id)
    )
    if found is not None:
        return found
    base = default_calendar()
    return BusinessCalendar(
        name=expert.full_name[:120],
        tz=expert.timezone,
        region=base.region if base else "FR",
        user_id=expert.id,
        intervals=[
            CalendarInterval(
                weekday=i.weekday, start_minute=i.start_minute, end_minute=i.end_minute
            )
            for i in (base.intervals if base else [])
        ],
        closures=[],
    )


def holidays(calendar: BusinessCalendar, year: int) -> list:
    return calendars.holidays_of(calendar.region, year) if calendar.region else []


# -- policies and targets ------------------------------------------------------------------------


def save_policy(actor: User, policy: SlaPolicy, values: dict, ip=None) -> SlaPolicy:
    """Conditions, rank and targets of a policy (`values`: name, rank, active, product_id,
    client_plan, priority, calendar_id, and per target `minutes_<id>` and `warn_<id>`). The
    version goes up: clocks started from now on use it, running ones keep theirs until a
    recompute.

    :raises ValidationFailed: per field; nothing is saved."""
    errors: dict[str, str] = {}
    name = (values.get("name") or "").strip()
    if not name:
        errors["name"] = _("Give the policy a name.")
    rank = _int(values.get("rank"))
    if rank is None or rank < 0:
        errors["rank"] = _("The rank is a whole number, 0 or more (lower ranks are tried first).")
    product_id = _int(values.get("product_id")) if values.get("product_id") else None
    if values.get("product_id") and db.session.get(Product, product_id or 0) is None:
        errors["product_id"] = _("Choose a product from the list.")
    priority = values.get("priority") or None
    if priority and priority not in Priority._value2member_map_:
        errors["priority"] = _("Choose a priority from the list.")
    calendar_id = _int(values.get("calendar_id")) if values.get("calendar_id") else None
    if values.get("calendar_id") and db.session.get(BusinessCalendar, calendar_id or 0) is None:
        errors["calendar_id"] = _("Choose a calendar from the list.")
    budgets = {}
    for target in policy.targets:
        minutes = _int(values.get(f"minutes_{target.id}"))
        warn_raw = values.get(f"warn_{target.id}")
        warn = _int(warn_raw) if warn_raw not in (None, "") else None
        if minutes is None or minutes <= 0:
            errors[f"minutes_{target.id}"] = _("A target is a number of business minutes above 0.")
        elif warn_raw not in (None, "") and (warn is None or not 0 < warn < minutes):
            errors[f"warn_{target.id}"] = _(
                "The warning comes before the target: between 1 and %(n)d minutes.", n=minutes - 1
            )
        budgets[target.id] = (minutes, warn)
    if not errors:
        candidate = SlaPolicy(
            id=policy.id,
            rank=rank,
            active=values.get("active") in ("1", "on", True),
            product_id=product_id,
            client_plan=(values.get("client_plan") or "").strip() or None,
            priority=Priority(priority) if priority else None,
        )
        others = [p for p in policies.active_policies() if p.id != policy.id]
        shadow = policies.shadowed_by(candidate, others) if candidate.active else None
        if shadow is not None:
            errors["rank"] = _(
                "This policy would never apply: “%(other)s”, ranked before it, matches every "
                "dossier it matches. Give it a lower rank or narrower conditions.",
                other=shadow.name,
            )
    if errors:
        raise ValidationFailed(next(iter(errors.values())), **errors)
    policy.name, policy.rank = name[:120], rank
    policy.active = values.get("active") in ("1", "on", True)
    policy.product_id, policy.priority = product_id, Priority(priority) if priority else None
    policy.client_plan = (values.get("client_plan") or "").strip()[:32] or None
    policy.calendar_id = calendar_id
    for target in policy.targets:
        target.business_minutes, target.warn_before_minutes = budgets[target.id]
    policy.version += 1
    audit.record(actor, "sla.policy", "sla_policy", policy.id, ip, version=policy.version)
    db.session.commit()
    return policy


def _int(value) -> int | None:
    text = str(value if value is not None else "").strip().replace(" ", "").replace("\u202f", "")
    return int(text) if re.fullmatch(r"-?\d+", text) else None


# -- reminder cadences ---------------------------------------------------------------------------


def save_cadence(actor: User, cadence: ReminderCadence, offsets: str, max_count, active, ip=None):
    """:raises ValidationFailed: offsets not increasing whole business days, or a count
    outside 0–10; nothing is saved."""
    parts = [p.strip() for p in (offsets or "").split(",") if p.strip()]
    days = [_int(p) for p in parts]
    errors = {}
    if not days or any(d is None or d <= 0 for d in days) or days != sorted(set(days)):
        errors["offsets"] = _("Give business days after the request, increasing: 2, 5, 9.")
    count = _int(max_count)
    if count is None or not 0 <= count <= 10:
        errors["max_count"] = _("At most between 0 and 10 reminders.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), **errors)
    cadence.offsets_days, cadence.max_count = days, count
    cadence.active = active in ("1", "on", True)
    audit.record(actor, "sla.cadence", "reminder_cadence", cadence.id, ip, offsets=days, max=count)
    db.session.commit()
    return cadence


# -- recompute open clocks -----------------------------------------------------------------------


def request_recompute(actor: User) -> SlaRecompute:
    """Queue the job; one at a time (a second request while one runs returns it)."""
    running = db.session.scalar(
        db.select(SlaRecompute).where(
            SlaRecompute.status.in_((RecomputeStatus.QUEUED, RecomputeStatus.RUNNING))
        )
    )
    if running is not None:
        return running
    row = SlaRecompute(requested_by_id=actor.id)
    db.session.add(row)
    audit.record(actor, "sla.recompute", "sla_recompute", None, None)
    db.session.commit()
    return row


def run_recompute(recompute_id: int, batch: int = 500) -> int:
    """The job: every dossier with an open clock takes its current policy's targets and its
    calendar's current hours (`clocks.reapply(force=True)`), batch by batch, the progress
    saved and signalled after each. Idempotent: a rerun recomputes to the same instants."""
    row = db.session.get(SlaRecompute, recompute_id)
    if row is None or row.finished:
        return 0
    open_dossiers = (
        db.select(SlaClock.dossier_id).where(SlaClock.status.in_(clocks.OPEN)).distinct()
    )
    row.status = RecomputeStatus.RUNNING
    row.total = db.session.scalar(db.select(db.func.count()).select_from(open_dossiers.subquery()))
    row.done = row.changed = 0
    db.session.commit()
    last = 0
    try:
        while True:
            ids = db.session.scalars(
                open_dossiers.where(SlaClock.dossier_id > last)
                .order_by(SlaClock.dossier_id)
                .limit(batch)
            ).all()
            if not ids:
                break
            for dossier in db.session.scalars(db.select(Dossier).where(Dossier.id.in_(ids))):
                row.changed += clocks.reapply(dossier, force=True)
            last = ids[-1]
            row.done += len(ids)
            notify.to_admins("sla:recompute", recompute_id=row.id)
            db.session.commit()
    except Exception:
        db.session.rollback()
        row.status, row.finished_at = RecomputeStatus.FAILED, utcnow()
        db.session.commit()
        raise
    row.status, row.finished_at = RecomputeStatus.DONE, utcnow()
    notify.to_admins("sla:recompute", recompute_id=row.id)
    db.session.commit()
    return row.changed


def latest_recompute() -> SlaRecompute | None:
    return db.session.scalar(db.select(SlaRecompute).order_by(SlaRecompute.id.desc()).limit(1))
