"""SLA: business calendars, clocks on every dossier, the escalation ladder and the alert centre
(docs/domain.md A7; reference/peers.md §6).

Other features call in at three moments, inside their own transaction: a transition
(`on_transition`), a human message in a dossier's thread (`on_message`), and any other move on
a dossier, such as a document sent (`on_activity`). Time does the rest: `sweep()` runs every
minute from the cron process. This package knows the dossier as a model, never the workflow,
messaging or document use cases that call it (a contract in pyproject.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from app.core.errors import ValidationFailed
from app.extensions import db
from app.models import (
    PARIS,
    ClockStatus,
    Dossier,
    Level,
    Party,
    Priority,
    SlaClock,
    SlaMetric,
    User,
    utcnow,
)
from app.security import can_remind_client, require
from app.services.sla import alerts, calendars, figures, labels, policies, reminders, settings
from app.services.sla.clocks import (
    OPEN,
    on_activity,
    on_message,
    on_transition,
    reapply,
)
from app.services.sla.defaults import install as install_defaults
from app.services.sla.ladder import Swept, sweep


def run(at: datetime | None = None, daily: bool = True) -> Swept:
    """Everything time decides, as of `at`: the ladder, the planned reminders that came due
    and, from 09:00 Paris, that day's reminders by action type (each once). What the minute
    job and `flask sla sweep --at` run."""
    at = at or utcnow()
    result = sweep(at)
    result.reminders += reminders.send_due(at)
    if daily and at.astimezone(PARIS).hour >= reminders.DAILY_HOUR:
        result.reminders += reminders.daily(at)
    return result


def levels_for(dossier_ids) -> dict[int, int]:
    """The worst rung reached by an open clock, per dossier (dashboards' amber and red marks);
    dossiers with nothing reached are left out. One query on the clocks' dossier index."""
    ids = list(dossier_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(SlaClock.dossier_id, db.func.max(SlaClock.level))
        .where(SlaClock.dossier_id.in_(ids), SlaClock.status.in_(OPEN), SlaClock.level > Level.NONE)
        .group_by(SlaClock.dossier_id)
    ).all()
    return dict(rows)


def tone(level: int | None) -> str:
    return "late" if (level or 0) >= Level.BREACHED else "soon" if level else ""


def set_priority(actor: User, dossier_id: int, priority) -> Dossier:
    """An admin changes a dossier's priority: its open clocks take the targets of the policy
    that now matches, keeping the time already elapsed."""
    dossier = db.session.get(Dossier, dossier_id)
    require(dossier is not None and actor.is_admin)
    try:
        dossier.priority = Priority(priority)
    except ValueError:
        message = _("Choose a priority from the list.")
        raise ValidationFailed(message, priority=message) from None
    reapply(dossier)
    db.session.commit()
    return dossier


@dataclass(frozen=True)
class Timing:
    """What a dossier's clocks tell the person looking at it."""

    level: int = Level.NONE  # the worst rung reached by an open clock: amber from WARNED, red after
    expected_at: datetime | None = None  # when the other party is expected to move (the client)
    late: bool = False  # that party is late: `expected_at` is a new estimate
    waiting_for: Party | None = None
    mine_due_at: datetime | None = None  # the viewer's own move, due by (expert, admin)
    may_remind: bool = False  # the client owes something and the viewer may chase them

    @property
    def tone(self) -> str:
        return tone(self.level)


def timing(dossier: Dossier, viewer: User, at: datetime | None = None) -> Timing:
    """One read of the dossier's open clocks. The client sees "expected reply by …" from the
    clock of whoever owes the next move, in that party's calendar; when it is late, an honest
    new estimate: one business day from the next opening."""
    at = at or utcnow()
    rows = db.session.scalars(
        db.select(SlaClock)
        .where(SlaClock.dossier_id == dossier.id, SlaClock.status.in_(OPEN))
        .order_by(SlaClock.due_at)
    ).all()
    level = max((c.level for c in rows), default=Level.NONE)
    # the whole-dossier clock says nothing about the next move
    running = [
        c for c in rows if c.status == ClockStatus.RUNNING and c.metric != SlaMetric.RESOLUTION
    ]
    mine = next(
        (
            c
            for c in running
            if (c.party == Party.ADMIN and viewer.is_admin) or c.responsible_id == viewer.id
        ),
        None,
    )
    mine_due = mine.due_at if mine is not None else None
    if viewer.id != dossier.client_id:
        client_owes = any(c.party == Party.CLIENT for c in running)
        remind = client_owes and can_remind_client(viewer, dossier)
        return Timing(level=level, mine_due_at=mine_due, may_remind=remind)
    owed = next((c for c in running if c.party != Party.CLIENT), None)
    if owed is None:
        return Timing(level=level, mine_due_at=mine_due)
    if owed.due_at > at:
        return Timing(level, owed.due_at, False, owed.party, mine_due)
    calendar = policies.calendar_by_id(owed.calendar_id).calendar
    estimate = calendars.add_business_minutes(
        calendar, calendars.next_opening(calendar, at), calendar.day_minutes
    )
    return Timing(level, estimate, True, owed.party, mine_due)


__all__ = [
    "Swept",
    "alerts",
    "calendars",
    "figures",
    "install_defaults",
    "labels",
    "levels_for",
    "tone",
    "on_activity",
    "on_message",
    "on_transition",
    "policies",
    "reapply",
    "reminders",
    "run",
    "set_priority",
    "settings",
    "Timing",
    "timing",
    "sweep",
]
