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


@dataclass
class Item:
    clock: SlaClock
    dossier: Dossier


@dataclass
class Mail:
    """What a batch of rungs tells people, gathered so that each person gets one notification
    and one email per kind per batch however many dossiers crossed a rung (B §6.7): a
    catch-up after an outage, or a busy Monday morning, is a digest, not a flood. Delivered in
    the same transaction as the rungs, so exactly once with them."""

    at: datetime
    users: dict[int, User] = field(default_factory=dict)
    notes: dict[tuple[int, int], list[Item]] = field(default_factory=dict)
    emails: dict[tuple[int, str], list[Item]] = field(default_factory=dict)
    raised: dict[int, list[int]] = field(default_factory=dict)  # level -> clock ids
    alerts: list[dict] = field(default_factory=list)  # alerts to open, one insert per batch
    _calendars: dict[int | None, object] = field(default_factory=dict)
    _admins: list[User] | None = None
    _firms: dict[int, int | None] = field(default_factory=dict)
    _managers: dict[int, list[User]] = field(default_factory=dict)

    def note(self, users, level: int, item: Item) -> None:
        for user in users:
            self.users[user.id] = user
            self.notes.setdefault((user.id, level), []).append(item)

    def email(self, users, template: str, item: Item) -> None:
        for user in users:
            self.users[user.id] = user
            self.emails.setdefault((user.id, template), []).append(item)

    def calendar(self, calendar_id: int | None):
        """A clock's calendar, read once per sweep (an admin's edit waits for the next)."""
        if calendar_id not in self._calendars:
            self._calendars[calendar_id] = policies.calendar_by_id(calendar_id).calendar
        return self._calendars[calendar_id]

    def admins(self) -> list[User]:
        if self._admins is None:
            self._admins = notifications.active_admins()
        return self._admins

    def firm_of(self, user_id: int | None) -> int | None:
        if user_id is None:
            return None
        if user_id not in self._firms:
            self._firms[user_id] = db.session.scalar(
                db.select(FirmMember.firm_id).where(FirmMember.user_id == user_id)
            )
        return self._firms[user_id]

    def managers(self, user_id: int | None) -> list[User]:
        if user_id is None:
            return []
        if user_id not in self._managers:
            self._managers[user_id] = firm_managers(user_id)
        return self._managers[user_id]


def _insert(model):
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(model).on_conflict_do_nothing()


def sweep(at: datetime | None = None, batch: int = BATCH) -> Swept:
    """Climb the ladder for every running clock whose next rung is due at `at` (now), and close
    alerts whose clock has ended. Reads only what came due (one indexed range per batch)."""
    at = at or utcnow()
    result = Swept()
    mail = Mail(at)  # the caches live for the sweep; what is told is emptied per batch
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
                db.select(Dossier)
                .options(db.joinedload(Dossier.product))
                .where(Dossier.id.in_({c.dossier_id for c in due}))
            )
        }
        # nothing read below depends on what this loop changed: one flush at the end, not one
        # before every statement
        with db.session.no_autoflush:
            crossed = [(clock, climb(clock, at, mail)) for clock in due]
            won = _record(crossed, at)
            for clock, levels in crossed:
                reached = [level for level in levels if (clock.id, level) in won]
                act(clock, dossiers[clock.dossier_id], reached, at, result, mail)
        deliver(mail, result)
        db.session.commit()
    result.closed += close_cleared(at)
    db.session.commit()
    if result.touched:
        notify.to_admins("alerts:changed")
    return result


def climb(clock: SlaClock, at: datetime, mail: Mail) -> list[int]:
    """Moves `clock` up every rung due by `at`; returns the levels it crossed."""
    calendar = mail.calendar(clock.calendar_id)
    crossed = []
    while clock.next_check_at is not None and clock.next_check_at <= at:
        level = clock.level + 1
        clock.level = level
        crossed.append(level)
        if level == Level.BREACHED and clock.breached_at is None:
            clock.breached_at = clock.due_at  # when it was breached, not when we noticed
        clock.next_check_at = clocks.ladder_at(clock, calendar, level + 1)
    return crossed


def _record(crossed: list[tuple[SlaClock, list[int]]], at: datetime) -> set[tuple[int, int]]:
    """Each rung's event row, the whole batch in one INSERT … ON CONFLICT DO NOTHING: RETURNING
    gives back only the rows this sweep inserted, so a rung another sweep (or a retry)
    already recorded is not acted on twice."""
    rows = [{"clock_id": c.id, "level": lv, "at": at} for c, levels in crossed for lv in levels]
    if not rows:
        return set()
    table = SlaEvent.__table__
    won = db.session.execute(
        _insert(table).values(rows).returning(table.c.clock_id, table.c.level)
    ).all()
    return {(clock_id, level) for clock_id, level in won}


def act(clock, dossier, reached: list[int], at, result: Swept, mail: Mail) -> None:
    item = Item(clock, dossier)
    for level in reached:
        # a clock found already late skips its warning: "due soon" would be false
        if level == Level.WARNED and Level.BREACHED in reached:
            continue
        ACTIONS[level](item, at, result, mail)
        result.escalated += 1
        result.touched.add(dossier.id)


def _responsible(clock: SlaClock, mail: Mail) -> list[User]:
    if clock.party == Party.ADMIN or clock.responsible_id is None:
        return mail.admins()
    user = mail.users.get(clock.responsible_id) or db.session.get(User, clock.responsible_id)
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


def warn(item: Item, at, result, mail: Mail) -> None:
    mail.note(_responsible(item.clock, mail), Level.WARNED, item)


def breach(item: Item, at, result, mail: Mail) -> None:
    clock, dossier = item.clock, item.dossier
    responsible = _responsible(clock, mail)
    managers = mail.managers(clock.responsible_id) if clock.party == Party.EXPERT else []
    mail.note(responsible + managers, Level.BREACHED, item)
    mail.email(responsible, "sla_breach", item)
    mail.alerts.append(
        {
            "clock_id": clock.id,
            "dossier_id": dossier.id,
            "level": Level.BREACHED,
            "party": clock.party,
            "responsible_id": clock.responsible_id,
            "firm_id": mail.firm_of(clock.responsible_id) if clock.party == Party.EXPERT else None,
            "code": clock.code,
            "status": AlertStatus.OPEN,
            "opened_at": at,
            "updated_at": at,
            "closed_by_itself": False,
        }
    )


def second(item: Item, at, result, mail: Mail) -> None:
    mail.raised.setdefault(Level.SECOND, []).append(item.clock.id)
    mail.email(mail.admins(), "sla_escalated", item)


def third(item: Item, at, result, mail: Mail) -> None:
    mail.raised.setdefault(Level.THIRD, []).append(item.clock.id)
    mail.note(mail.admins(), Level.THIRD, item)


ACTIONS = {Level.WARNED: warn, Level.BREACHED: breach, Level.SECOND: second, Level.THIRD: third}

NOTES = {
    Level.WARNED: (
        "dossier_sla_warning",
        _l("Due soon: a dossier is waiting for you"),
        lambda n: _l("Due soon: %(n)d dossiers are waiting for you", n=n),
        Priority.HIGH,
    ),
    Level.BREACHED: (
        "dossier_sla_breach",
        _l("Late: a dossier has passed its deadline"),
        lambda n: _l("Late: %(n)d dossiers have passed their deadline", n=n),
        Priority.URGENT,
    ),
    Level.THIRD: (
        "dossier_sla_critical",
        _l("Critical: a late dossier needs an admin's decision"),
        lambda n: _l("Critical: %(n)d late dossiers need an admin's decision", n=n),
        Priority.URGENT,
    ),
}
EMAIL_TYPES = {"sla_breach": "dossier_sla_breach", "sla_escalated": "dossier_sla_escalated"}
SHOWN = 20  # dossiers listed in one digest; the rest are counted


def _line(item: Item) -> dict:
    return {
        "id": item.dossier.id,
        "product": item.dossier.product.name,
        "what": labels.what(item.clock.code),
        "due_at": item.clock.due_at,
        "reassign": item.clock.party == Party.EXPERT,
        "link": emails.external_url("dossiers.show", dossier_id=item.dossier.id),
    }


def deliver(mail: Mail, result: Swept) -> None:
    """The batch's new alerts in one insert, then those raised to the second and third levels
    (one statement per level); one notification per person and rung, one email per person
    and kind."""
    if mail.alerts:
        opened = db.session.execute(
            _insert(Alert.__table__).values(mail.alerts).returning(Alert.__table__.c.id)
        ).all()
        result.opened += len(opened)
    for level, clock_ids in mail.raised.items():
        db.session.execute(
            db.update(Alert)
            .where(Alert.clock_id.in_(clock_ids), Alert.level < level)
            .values(level=level, updated_at=mail.at)
        )
    for (user_id, level), items in mail.notes.items():
        user = mail.users[user_id]
        type_, one, several, priority = NOTES[level]
        if len(items) == 1:
            (item,) = items
            title = one
            body = _l(
                "%(what)s on dossier #%(id)d (%(product)s)",
                what=labels.what(item.clock.code),
                id=item.dossier.id,
                product=item.dossier.product.name,
            )
            link = url_for("dossiers.show", dossier_id=item.dossier.id)
            ref = f"sla:{item.clock.id}"
        else:
            title = several(len(items))
            body = ", ".join(f"#{i.dossier.id}" for i in items[:SHOWN])
            if len(items) > SHOWN:
                body += " …"
            link = url_for("admin.alerts") if user.is_admin else url_for("main.dashboard")
            ref = f"sla-batch:{items[0].clock.id}:{len(items)}:{mail.at.isoformat()}"
        notifications.create(
            user,
            type_,
            title,
            body=body,
            link=link,
            priority=priority,
            object_ref=ref,
            threshold=type_,
        )
    for (user_id, template), items in mail.emails.items():
        user = mail.users[user_id]
        emails.queue_notification_email(
            user,
            EMAIL_TYPES[template],
            template,
            items=[_line(i) for i in items[:SHOWN]],
            more=max(0, len(items) - SHOWN),
            link=emails.external_url("admin.alerts" if user.is_admin else "main.dashboard"),
        )
    for user_id in {uid for uid, _level in mail.notes} | {uid for uid, _t in mail.emails}:
        if not mail.users[user_id].is_admin:
            notify.to_user(user_id, "alerts:changed")
    mail.notes.clear()
    mail.emails.clear()
    mail.raised.clear()
    mail.alerts.clear()


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
