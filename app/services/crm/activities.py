"""Activities (docs/domain.md A11): calls, emails, meetings, notes and tasks with a due date, on a
lead or a client; each seller's "today and overdue"; overdue tasks chased once by the daily
reminders (a notification each, one summary email per seller)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core.errors import ValidationFailed
from app.extensions import db
from app.models import (
    PARIS,
    Activity,
    ActivityKind,
    Lead,
    Priority,
    Role,
    User,
    utcnow,
)
from app.realtime import notify
from app.security import can_edit_activity, can_use_crm, can_view_lead, can_work_lead, require
from app.services import notifications
from app.services.notifications import emails

KIND_LABELS = {
    ActivityKind.CALL: _l("Call"),
    ActivityKind.EMAIL: _l("Email"),
    ActivityKind.MEETING: _l("Meeting"),
    ActivityKind.NOTE: _l("Note"),
    ActivityKind.TASK: _l("Task"),
}
DEFAULT_DUE_HOUR = time(18, 0)  # a task due "on Tuesday" is due by the end of Tuesday's work
MAX_SUBJECT = 200
MAX_BODY = 5000


def read_kind(raw: str | None) -> ActivityKind:
    try:
        return ActivityKind(raw or "")
    except ValueError:
        raise ValidationFailed(_("Choose a kind of activity."), kind=_("Choose.")) from None


def due_from(day, at: time | None) -> datetime | None:
    """A due date typed as a Paris day (and hour) → aware UTC."""
    if day is None:
        return None
    return datetime.combine(day, at or DEFAULT_DUE_HOUR, tzinfo=PARIS).astimezone(UTC)


def add(
    actor: User,
    *,
    kind: ActivityKind,
    subject: str,
    body: str = "",
    due_at: datetime | None = None,
    lead: Lead | None = None,
    client: User | None = None,
    owner_id: int | None = None,
) -> Activity:
    require(can_use_crm(actor))
    if lead is not None:
        require(can_view_lead(actor, lead))
        if not can_work_lead(actor, lead):
            raise ValidationFailed(_("This lead is another seller's: ask them or an admin."))
    subject, body = (subject or "").strip(), (body or "").strip()
    errors = {}
    if not subject:
        errors["subject"] = _("Give it a subject.")
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = _("At most %(n)s characters.", n=MAX_SUBJECT)
    if len(body) > MAX_BODY:
        errors["body"] = _("At most %(n)s characters.", n=MAX_BODY)
    if kind == ActivityKind.TASK and due_at is None:
        errors["due_on"] = _("A task needs a due date.")
    owner = actor
    if owner_id and owner_id != actor.id:
        owner = db.session.get(User, owner_id)
        if owner is None or owner.role not in (Role.SALES, Role.ADMIN) or not owner.active:
            errors["owner"] = _("Choose someone of the sales team.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), **errors)
    activity = Activity(
        lead_id=lead.id if lead else None,
        client_id=client.id if client else None,
        kind=kind,
        subject=subject,
        body=body,
        due_at=due_at if kind == ActivityKind.TASK else None,
        # a call or a note is logged as it happens: done on arrival
        done_at=None if kind == ActivityKind.TASK else utcnow(),
        owner_id=owner.id,
        author_id=actor.id,
    )
    db.session.add(activity)
    db.session.flush()
    if owner.id != actor.id:
        notifications.create(
            owner,
            "activity_assigned",
            _l("A task was given to you"),
            subject,
            link=_link(activity),
            object_ref=f"activity:{activity.id}",
        )
    if lead is not None:
        notify.signal("sales", "lead:changed", lead_id=lead.id)
    db.session.commit()
    return activity


def get(viewer: User, activity_id: int) -> Activity:
    activity = db.session.get(Activity, activity_id)
    require(activity is not None and can_use_crm(viewer))
    return activity


def complete(actor: User, activity: Activity, done: bool = True) -> Activity:
    require(can_use_crm(actor))
    if not can_edit_activity(actor, activity):
        raise ValidationFailed(_("Only its author, its seller or an admin ticks it off."))
    activity.done_at = utcnow() if done else None
    if activity.lead_id:
        notify.signal("sales", "lead:changed", lead_id=activity.lead_id)
    db.session.commit()
    return activity


def _link(activity: Activity) -> str:
    if activity.lead_id:
        return url_for("crm.lead", lead_id=activity.lead_id, _anchor=f"activity-{activity.id}")
    return url_for("crm.client", client_id=activity.client_id, _anchor=f"activity-{activity.id}")


def link(activity: Activity) -> str:
    return _link(activity)


def of_lead(lead: Lead, limit: int = 100) -> list[Activity]:
    return db.session.scalars(
        db.select(Activity)
        .where(Activity.lead_id == lead.id)
        .order_by(Activity.id.desc())
        .limit(limit)
    ).all()


def of_client(client: User, lead_ids: list[int], limit: int = 100) -> list[Activity]:
    """The client's own activities and those of the leads it came from: one history."""
    condition = Activity.client_id == client.id
    if lead_ids:
        condition = condition | Activity.lead_id.in_(lead_ids)
    return db.session.scalars(
        db.select(Activity).where(condition).order_by(Activity.id.desc()).limit(limit)
    ).all()


def agenda(viewer: User, at: datetime | None = None, limit: int = 50) -> dict[str, list]:
    """The seller's open tasks: overdue, and due today (Paris)."""
    require(can_use_crm(viewer))
    now = at or utcnow()
    end_of_day = datetime.combine(now.astimezone(PARIS).date() + timedelta(days=1), time(), PARIS)
    rows = db.session.scalars(
        db.select(Activity)
        .where(
            Activity.owner_id == viewer.id,
            Activity.done_at.is_(None),
            Activity.due_at < end_of_day,
        )
        .order_by(Activity.due_at)
        .limit(limit)
    ).all()
    return {
        "overdue": [a for a in rows if a.due_at < now],
        "today": [a for a in rows if a.due_at >= now],
    }


def remind_overdue(at: datetime | None = None, batch: int = 2000) -> int:
    """Overdue open tasks, each chased once: a notification to its seller, and one email per
    seller listing them. Idempotent: `reminded_at` marks what was chased."""
    now = at or utcnow()
    rows = db.session.scalars(
        db.select(Activity)
        .where(
            Activity.done_at.is_(None),
            Activity.due_at < now,
            Activity.reminded_at.is_(None),
            Activity.owner_id.is_not(None),
        )
        .order_by(Activity.due_at)
        .limit(batch)
    ).all()
    by_owner: dict[int, list[Activity]] = defaultdict(list)
    for activity in rows:
        activity.reminded_at = now
        by_owner[activity.owner_id].append(activity)
    for owner_id, tasks in by_owner.items():
        owner = db.session.get(User, owner_id)
        if owner is None or not owner.active:
            continue
        for task in tasks:
            notifications.create(
                owner,
                "activity_overdue",
                _l("A task is late"),
                task.subject,
                link=_link(task),
                priority=Priority.HIGH,
                object_ref=f"activity:{task.id}",
                threshold="overdue",
            )
        emails.queue_notification_email(
            owner,
            "activity_overdue",
            "tasks_overdue",
            tasks=[(t.subject, emails.external_url("crm.agenda"), t.due_at) for t in tasks],
        )
    db.session.commit()
    return len(rows)
