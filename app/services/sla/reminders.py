"""Reminders (relances), separate from the SLA ladder (peers.md §6.4):

* the daily 09:00 reminders by action type (B §6.5): each dossier in a situation for J+N days
  gets the rule of that day once per entry into the situation, grouped per recipient into one
  notification per client and one summary email (B §6.7) instead of a flood;
* pending items of the client (documents requested, a quote or an audit to answer, an invoice
  to pay) are chased on a cadence in business days of the client's calendar, at most so many
  times, outside their quiet hours, through the channels they chose; a reminder whose item has
  moved on is cancelled, never sent;
* "send a reminder now" on a pending item, and "remind everyone overdue" for admins;
* the admins' morning report (B §6.8).
Reminders never count as a response for an SLA."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from app.core.errors import InvalidTransition
from app.extensions import db
from app.models import (
    PARIS,
    Alert,
    AlertStatus,
    ClockStatus,
    Dossier,
    Level,
    Party,
    Priority,
    Reminder,
    ReminderCadence,
    ReminderLog,
    ReminderRule,
    ReminderStatus,
    SlaClock,
    User,
    utcnow,
)
from app.security import can_remind_client, require
from app.services import notifications
from app.services.notifications import emails, preferences
from app.services.sla import labels, policies
from app.services.sla.calendars import add_business_minutes

DAILY_HOUR = 9  # Paris
MANUAL_GAP = timedelta(hours=1)
RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.URGENT: 3}


def _insert(model):
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(model).on_conflict_do_nothing()


def _midnight(day) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=PARIS)


# -- daily reminders by action type ------------------------------------------------------------


def daily(at: datetime | None = None) -> int:
    """The 09:00 run for the Paris date of `at`: returns how many (dossier, rule) reminders it
    sent. A rerun the same day sends nothing (the log's unique key); a missed day sends the
    level reached, not every level passed."""
    at = at or utcnow()
    today = at.astimezone(PARIS).date()
    rules = db.session.scalars(
        db.select(ReminderRule).where(ReminderRule.active.is_(True)).order_by(ReminderRule.days)
    ).all()
    by_type: dict[str, list[ReminderRule]] = defaultdict(list)
    for rule in rules:
        by_type[rule.action_type].append(rule)
    outbox: dict[int, list] = defaultdict(list)  # recipient → [(dossier, rule, days)]
    sent = 0
    for ladder in by_type.values():
        for i, rule in enumerate(ladder):
            # entered the situation on the day J-days (Paris), and not yet at the next rung
            newest = _midnight(today - timedelta(days=rule.days - 1))
            nxt = ladder[i + 1].days if i + 1 < len(ladder) else None
            query = db.select(Dossier).where(
                Dossier.status.in_(rule.statuses), Dossier.waiting_since < newest
            )
            if nxt is not None:
                query = query.where(Dossier.waiting_since >= _midnight(today - timedelta(nxt - 1)))
            for dossier in db.session.scalars(query):
                logged = db.session.scalar(
                    _insert(ReminderLog)
                    .values(
                        dossier_id=dossier.id,
                        rule_id=rule.id,
                        since=dossier.waiting_since,
                        recipients=rule.recipients,
                        sent_at=at,
                    )
                    .returning(ReminderLog.id)
                )
                if logged is None:
                    continue  # already sent for this entry into the situation
                sent += 1
                days = (today - dossier.waiting_since.astimezone(PARIS).date()).days
                for user in _recipients(dossier, rule.recipients):
                    outbox[user.id].append((dossier, rule, days, user))
    for items in outbox.values():
        _summarise(items, today)
    db.session.commit()
    return sent


def _recipients(dossier: Dossier, kinds: list[str]) -> list[User]:
    found = []
    for kind in kinds:
        if kind == "client":
            found.append(dossier.client)
        elif kind == "expert":
            expert_id = dossier.expert_id or dossier.pending_expert_id
            if expert_id:
                found.append(db.session.get(User, expert_id))
        elif kind == "admin":
            found.extend(notifications.active_admins())
    return [u for u in found if u is not None and u.active]


def _summarise(items: list, today) -> None:
    """One notification per client for this person, one email with everything (B §6.7)."""
    user = items[0][3]
    by_client: dict[int, list] = defaultdict(list)
    for dossier, rule, days, _user in items:
        by_client[dossier.client_id].append((dossier, rule, days))
    for client_id, group in by_client.items():
        dossier = group[0][0]
        top = max(group, key=lambda g: (RANK[g[1].priority], g[2]))
        if user.id == client_id:
            title = _l("Your dossiers waiting for you: %(n)d", n=len(group))
        else:
            title = _l(
                "%(client)s – dossiers to handle: %(n)d", client=_client_name(dossier), n=len(group)
            )
        products = ", ".join(d.product.name for d, _r, _n in group[:3])
        body = _l(
            "%(products)s. Most urgent: %(what)s, day %(days)d.",
            products=products,
            what=labels.ACTION.get(top[1].action_type, top[1].action_type),
            days=top[2],
        )
        link = (
            url_for("dossiers.show", dossier_id=dossier.id)
            if len(group) == 1
            else url_for("dossiers.index")
        )
        notifications.create(
            user,
            "dossier_reminder",
            title,
            body=body,
            link=link,
            priority=top[1].priority,
            object_ref=f"reminders:{today.isoformat()}:{client_id}",
            threshold=top[1].level,
        )
    emails.queue_notification_email(
        user,
        "dossier_reminder",
        "reminder_summary",
        items=[
            {
                "id": d.id,
                "product": d.product.name,
                "what": str(labels.ACTION.get(r.action_type, r.action_type)),
                "days": n,
                "urgent": RANK[r.priority] >= RANK[Priority.HIGH],
                "link": emails.external_url("dossiers.show", dossier_id=d.id),
            }
            for d, r, n, _u in sorted(items, key=lambda i: (-RANK[i[1].priority], -i[2]))
        ],
    )


def _client_name(dossier: Dossier) -> str:
    profile = dossier.client.client_profile
    return profile.company_name if profile and profile.company_name else dossier.client.full_name


# -- pending items on a cadence ----------------------------------------------------------------


def schedule_first(clock: SlaClock) -> None:
    """A clock now waits on the client: its first reminder is planned, if its kind has a
    cadence. Called by the clock as it starts, in the same transaction."""
    if clock.party != Party.CLIENT or clock.responsible_id is None:
        return
    cadence = _cadence(clock.code)
    if cadence is None or not cadence.offsets_days or cadence.max_count < 1:
        return
    db.session.flush()  # the clock's id
    _plan(clock, cadence, 1)


def _cadence(code: str) -> ReminderCadence | None:
    return db.session.scalar(
        db.select(ReminderCadence).where(
            ReminderCadence.code == code, ReminderCadence.active.is_(True)
        )
    )


def _plan(clock: SlaClock, cadence: ReminderCadence, n: int) -> None:
    if n > min(cadence.max_count, len(cadence.offsets_days)):
        return
    calendar = policies.calendar_for(None, Party.CLIENT, clock.responsible_id).calendar
    day = calendar.day_minutes
    due = add_business_minutes(calendar, clock.started_at, cadence.offsets_days[n - 1] * day)
    db.session.execute(
        _insert(Reminder).values(
            clock_id=clock.id,
            dossier_id=clock.dossier_id,
            recipient_id=clock.responsible_id,
            n=n,
            due_at=due,
            status=ReminderStatus.SCHEDULED,
            source="cadence",
        )
    )


def cancel_for(clock_id: int, reason: str) -> None:
    """The item moved on (its clock ended): what was planned for it will never be sent."""
    db.session.execute(
        db.update(Reminder)
        .where(Reminder.clock_id == clock_id, Reminder.status == ReminderStatus.SCHEDULED)
        .values(status=ReminderStatus.CANCELLED, cancelled_reason=reason)
    )


def send_due(at: datetime | None = None, batch: int = 500) -> int:
    """Send the planned reminders that came due, each checked against its item first."""
    at = at or utcnow()
    sent = 0
    while True:
        due = db.session.scalars(
            db.select(Reminder)
            .where(Reminder.status == ReminderStatus.SCHEDULED, Reminder.due_at <= at)
            .order_by(Reminder.due_at, Reminder.id)
            .limit(batch)
        ).all()
        if not due:
            return sent
        for reminder in due:
            sent += _deliver(reminder, at)
        db.session.commit()


def _deliver(reminder: Reminder, at: datetime) -> int:
    clock = db.session.get(SlaClock, reminder.clock_id)
    dossier = db.session.get(Dossier, reminder.dossier_id)
    user = db.session.get(User, reminder.recipient_id) if reminder.recipient_id else None
    if clock is None or not clock.open or dossier is None or user is None or not user.active:
        reminder.status, reminder.cancelled_reason = ReminderStatus.CANCELLED, "moved_on"
        return 0
    quiet = preferences.quiet_end(user, at)
    if quiet is not None and reminder.source == "cadence":
        reminder.due_at = quiet  # not during their quiet hours: at their end
        return 0
    _send(reminder, clock, dossier, user, at)
    cadence = _cadence(clock.code)
    if cadence is not None and reminder.source == "cadence":
        _plan(clock, cadence, reminder.n + 1)
    return 1


def _send(reminder: Reminder, clock: SlaClock, dossier: Dossier, user: User, at: datetime):
    reminder.status, reminder.sent_at = ReminderStatus.SENT, at
    what = labels.what(clock.code)
    notifications.create(
        user,
        "dossier_reminder",
        _l("Reminder: %(what)s", what=what),
        body=_l("Dossier %(product)s is waiting for you.", product=dossier.product.name),
        link=url_for("dossiers.show", dossier_id=dossier.id),
        priority=Priority.HIGH if reminder.n > 1 else Priority.MEDIUM,
        object_ref=f"reminder:{reminder.id}",
    )
    emails.queue_notification_email(
        user,
        "dossier_reminder",
        "reminder_item",
        dossier=dossier,
        what=what,
        n=reminder.n,
        link=emails.external_url("dossiers.show", dossier_id=dossier.id),
    )


def _pending_clock(dossier_id: int) -> SlaClock | None:
    """The open clock of the dossier that waits on its client, if any."""
    return db.session.scalar(
        db.select(SlaClock)
        .where(
            SlaClock.dossier_id == dossier_id,
            SlaClock.party == Party.CLIENT,
            SlaClock.status == ClockStatus.RUNNING,
        )
        .order_by(SlaClock.id.desc())
        .limit(1)
    )


def remind_now(actor: User, dossier: Dossier, at: datetime | None = None) -> Reminder:
    """ "Send a reminder now" on the item the client owes.

    :raises InvalidTransition: nothing is waiting on the client, or a reminder left less than
        an hour ago (the client is not flooded by a double click)."""
    at = at or utcnow()
    require(can_remind_client(actor, dossier))
    clock = _pending_clock(dossier.id)
    if clock is None or clock.responsible_id is None:
        raise InvalidTransition(_("Nothing is waiting on the client: no reminder to send."))
    last = db.session.scalar(
        db.select(db.func.max(Reminder.sent_at)).where(Reminder.clock_id == clock.id)
    )
    if last is not None and at - last < MANUAL_GAP:
        raise InvalidTransition(_("A reminder was sent less than an hour ago."))
    reminder = _manual(clock, at)
    _send(reminder, clock, dossier, db.session.get(User, clock.responsible_id), at)
    db.session.commit()
    return reminder


def _manual(clock: SlaClock, at: datetime) -> Reminder:
    n = (
        db.session.scalar(db.select(db.func.max(Reminder.n)).where(Reminder.clock_id == clock.id))
        or 0
    ) + 1
    reminder = Reminder(
        clock_id=clock.id,
        dossier_id=clock.dossier_id,
        recipient_id=clock.responsible_id,
        n=n,
        due_at=at,
        source="manual",
    )
    db.session.add(reminder)
    db.session.flush()
    return reminder


def remind_overdue(at: datetime | None = None, batch: int = 500) -> int:
    """Every client late on an item (its clock breached) and not reminded in the last day is
    reminded now. An admin starts it; a job runs it."""
    at = at or utcnow()
    recent = (
        db.select(Reminder.id)
        .where(Reminder.clock_id == SlaClock.id, Reminder.sent_at > at - timedelta(days=1))
        .exists()
    )
    sent, last_id = 0, 0
    while True:
        rows = db.session.scalars(
            db.select(SlaClock)
            .where(
                SlaClock.party == Party.CLIENT,
                SlaClock.status == ClockStatus.RUNNING,
                SlaClock.due_at <= at,
                SlaClock.responsible_id.is_not(None),
                SlaClock.id > last_id,
                ~recent,
            )
            .order_by(SlaClock.id)
            .limit(batch)
        ).all()
        if not rows:
            return sent
        for clock in rows:
            last_id = clock.id
            dossier = db.session.get(Dossier, clock.dossier_id)
            user = db.session.get(User, clock.responsible_id)
            if user is None or not user.active:
                continue
            _send(_manual(clock, at), clock, dossier, user, at)
            sent += 1
        db.session.commit()


# -- the morning report --------------------------------------------------------------------------


def morning_report(at: datetime | None = None) -> int:
    """07:00: each admin gets one email with what needs them today (B §6.8, for what the
    platform has): open alerts by level, what breached in the last 24 hours, what is at risk
    in the next two business hours, and the reminders sent yesterday."""
    at = at or utcnow()
    since = at - timedelta(days=1)
    open_alerts = dict(
        db.session.execute(
            db.select(Alert.level, db.func.count(Alert.id))
            .where(Alert.status != AlertStatus.RESOLVED)
            .group_by(Alert.level)
        ).all()
    )
    breached = db.session.scalar(
        db.select(db.func.count(SlaClock.id)).where(SlaClock.breached_at > since)
    )
    at_risk = at_risk_count(at)
    reminded = db.session.scalar(
        db.select(db.func.count(Reminder.id)).where(Reminder.sent_at > since)
    ) + db.session.scalar(
        db.select(db.func.count(ReminderLog.id)).where(ReminderLog.sent_at > since)
    )
    critical = db.session.execute(
        db.select(Alert.id, Alert.dossier_id, Alert.code, Alert.opened_at)
        .where(Alert.status != AlertStatus.RESOLVED, Alert.level >= Level.SECOND)
        .order_by(Alert.opened_at)
        .limit(20)
    ).all()
    sent = 0
    for admin in notifications.active_admins():
        emails.queue_notification_email(
            admin,
            "dossier_morning_report",
            "morning_report",
            open_alerts={int(k): v for k, v in open_alerts.items()},
            breached=breached,
            at_risk=at_risk,
            reminded=reminded,
            critical=[
                {
                    "id": a.dossier_id,
                    "what": labels.what(a.code),
                    "opened_at": a.opened_at,
                    "link": emails.external_url("admin.alert", alert_id=a.id),
                }
                for a in critical
            ],
            link=emails.external_url("admin.alerts"),
        )
        sent += 1
    db.session.commit()
    return sent


def at_risk_count(at: datetime | None = None) -> int:
    """Running clocks not yet late that come due within two business hours of the platform's
    calendar (the admin KPI): one indexed range on the due instants."""
    at = at or utcnow()
    calendar = policies.calendar_by_id(None).calendar
    horizon = add_business_minutes(calendar, at, 120)
    return db.session.scalar(
        db.select(db.func.count(SlaClock.id)).where(
            SlaClock.status == ClockStatus.RUNNING,
            SlaClock.due_at > at,
            SlaClock.due_at <= horizon,
        )
    )
