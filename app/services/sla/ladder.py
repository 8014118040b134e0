"""The escalation ladder (peers.md §6.3) and the sweep that climbs it.

warn → in-app to whoever is responsible (the dossier turns amber);
breach → them and their firm's managers, an alert opens (the dossier turns red, the client is
told honestly that it is running late, with a new estimate);
second level → the admins by email, with a proposal to reassign;
third level → an urgent admin alert that needs a note to be resolved.

Each rung happens once per clock: its `SlaEvent` row is inserted with ON CONFLICT DO NOTHING,
and only the sweep whose insert won sends anything, whatever retries or concurrent sweeps do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import (
    Alert,
    AlertStatus,
    ClockStatus,
    Dossier,
    FirmMember,
    FirmRole,
    Level,
    Party,
    Priority,
    SlaClock,
    SlaEvent,
    User,
    utcnow,
)
from app.realtime import notify
from app.services import notifications
from app.services.notifications import emails
from app.services.sla import clocks, labels, policies

BATCH = 500


@dataclass
class Swept:
    reminders: int = 0
    opened: int = 0
    closed: int = 0
    escalated: int = 0
    touched: set[int] = field(default_factory=set)

    def line(self) -> str:
        return (
            f"sent {self.reminders} reminders, opened {self.opened} alerts, "
            f"closed {self.closed} alerts"
        )


def _insert(model):
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(model).on_conflict_do_nothing()


def sweep(at: datetime | None = None, batch: int = BATCH) -> Swept:
    """Climb the ladder for every running clock whose next rung is due at `at` (now), and close
    alerts whose clock has ended. Reads only what came due (one indexed range per batch)."""
    at = at or utcnow()
    result = Swept()
    # each clock climbed leaves the range (its next rung is later, or there is none), so the
    # same query reads the next batch
    while True:
        query = (
            db.select(SlaClock)
            .where(
                SlaClock.status == ClockStatus.RUNNING,
                SlaClock.next_check_at <= at,
            )
            .order_by(SlaClock.next_check_at, SlaClock.id)
            .limit(batch)
        )
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # a concurrent sweep takes others
        due = db.session.scalars(query).all()
        if not due:
            break
        dossiers = {
            d.id: d
            for d in db.session.scalars(
                db.select(Dossier).where(Dossier.id.in_({c.dossier_id for c in due}))
            )
        }
        for clock in due:
            climb(clock, dossiers[clock.dossier_id], at, result)
        db.session.commit()
    result.closed += close_cleared(at)
    db.session.commit()
    if result.touched:
        notify.to_admins("alerts:changed")
    return result


def climb(clock: SlaClock, dossier: Dossier, at: datetime, result: Swept) -> None:
    calendar = policies.calendar_by_id(clock.calendar_id).calendar
    reached = []
    while clock.next_check_at is not None and clock.next_check_at <= at:
        level = clock.level + 1
        clock.level = level
        # RETURNING, not rowcount: the one row comes back only to the insert that won
        won = db.session.scalar(
            _insert(SlaEvent).values(clock_id=clock.id, level=level, at=at).returning(SlaEvent.id)
        )
        if won is not None:
            reached.append(level)
        if level == Level.BREACHED and clock.breached_at is None:
            clock.breached_at = clock.due_at  # when it was breached, not when we noticed
        clock.next_check_at = clocks.ladder_at(clock, calendar, level + 1)
    for level in reached:
        # a clock found already late skips its warning: "due soon" would be false
        if level == Level.WARNED and Level.BREACHED in reached:
            continue
        ACTIONS[level](clock, dossier, at, result)
        result.escalated += 1
        result.touched.add(dossier.id)


def _responsible(clock: SlaClock) -> list[User]:
    if clock.party == Party.ADMIN or clock.responsible_id is None:
        return notifications.active_admins()
    user = db.session.get(User, clock.responsible_id)
    return [user] if user is not None and user.active else []


def firm_managers(user_id: int | None) -> list[User]:
    """The owners and managers of the firm `user_id` works in (not themselves)."""
    if user_id is None:
        return []
    firm = db.select(FirmMember.firm_id).where(FirmMember.user_id == user_id).scalar_subquery()
    return db.session.scalars(
        db.select(User)
        .join(FirmMember, FirmMember.user_id == User.id)
        .where(
            FirmMember.firm_id == firm,
            FirmMember.role.in_((FirmRole.OWNER, FirmRole.MANAGER)),
            User.id != user_id,
            User.active.is_(True),
        )
    ).all()


def _firm_of(user_id: int | None) -> int | None:
    if user_id is None:
        return None
    return db.session.scalar(db.select(FirmMember.firm_id).where(FirmMember.user_id == user_id))


def _tell(users, clock, dossier, type_, title, priority) -> None:
    link = url_for("dossiers.show", dossier_id=dossier.id)
    body = _l(
        "%(what)s on dossier #%(id)d (%(product)s)",
        what=labels.what(clock.code),
        id=dossier.id,
        product=dossier.product.name,
    )
    for user in users:
        notifications.create(
            user,
            type_,
            title,
            body=body,
            link=link,
            priority=priority,
            object_ref=f"sla:{clock.id}",
            threshold=type_,
        )


def warn(clock, dossier, at, result) -> None:
    _tell(
        _responsible(clock),
        clock,
        dossier,
        "dossier_sla_warning",
        _l("Due soon: a dossier is waiting for you"),
        Priority.HIGH,
    )


def breach(clock, dossier, at, result) -> None:
    responsible = _responsible(clock)
    managers = firm_managers(clock.responsible_id) if clock.party == Party.EXPERT else []
    _tell(
        responsible + managers,
        clock,
        dossier,
        "dossier_sla_breach",
        _l("Late: a dossier has passed its deadline"),
        Priority.URGENT,
    )
    for user in responsible:
        emails.queue_notification_email(
            user,
            "dossier_sla_breach",
            "sla_breach",
            dossier=dossier,
            what=labels.what(clock.code),
            due_at=clock.due_at,
            link=emails.external_url("dossiers.show", dossier_id=dossier.id),
        )
    opened = db.session.scalar(
        _insert(Alert)
        .values(
            clock_id=clock.id,
            dossier_id=dossier.id,
            level=Level.BREACHED,
            party=clock.party,
            responsible_id=clock.responsible_id,
            firm_id=_firm_of(clock.responsible_id) if clock.party == Party.EXPERT else None,
            code=clock.code,
            status=AlertStatus.OPEN,
            opened_at=at,
            updated_at=at,
        )
        .returning(Alert.id)
    )
    result.opened += opened is not None
    if clock.responsible_id:
        notify.to_user(clock.responsible_id, "alerts:changed")


def second(clock, dossier, at, result) -> None:
    _raise(clock, Level.SECOND, at)
    for admin in notifications.active_admins():
        emails.queue_notification_email(
            admin,
            "dossier_sla_escalated",
            "sla_escalated",
            dossier=dossier,
            what=labels.what(clock.code),
            due_at=clock.due_at,
            reassign=clock.party == Party.EXPERT,
            link=emails.external_url("admin.alerts"),
        )


def third(clock, dossier, at, result) -> None:
    _raise(clock, Level.THIRD, at)
    _tell(
        notifications.active_admins(),
        clock,
        dossier,
        "dossier_sla_critical",
        _l("Critical: a late dossier needs an admin's decision"),
        Priority.URGENT,
    )


def _raise(clock: SlaClock, level: int, at: datetime) -> None:
    db.session.execute(
        db.update(Alert)
        .where(Alert.clock_id == clock.id, Alert.level < level)
        .values(level=level, updated_at=at)
    )


ACTIONS = {Level.WARNED: warn, Level.BREACHED: breach, Level.SECOND: second, Level.THIRD: third}


def close_cleared(at: datetime) -> int:
    """Alerts still open although their clock has ended (satisfied or cancelled): closed.
    The clocks close theirs as they end; this catches an alert opened by a sweep that raced
    with the transition ending its clock."""
    ended = db.select(SlaClock.id).where(
        SlaClock.id == Alert.clock_id, SlaClock.status.not_in(clocks.OPEN)
    )
    return db.session.execute(
        db.update(Alert)
        .where(Alert.status != AlertStatus.RESOLVED, ended.exists())
        .values(status=AlertStatus.RESOLVED, resolved_at=at, closed_by_itself=True, updated_at=at)
    ).rowcount
