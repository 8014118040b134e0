"""Reminders: the daily ones of B §6.5 on a prepared set of dossiers, grouped per person; pending
items chased on a cadence and cancelled when they move on; quiet hours; "send a reminder now";
"remind everyone overdue"; the morning report."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import clock
from app.core.errors import InvalidTransition, NotFound
from app.extensions import db
from app.models import (
    DossierStatus,
    Email,
    Notification,
    Reminder,
    ReminderLog,
    ReminderRule,
    ReminderStatus,
)
from app.services import sla
from app.services.notifications import preferences
from tests.factories.models import gen_admin, gen_client, gen_dossier, gen_expert

PARIS = ZoneInfo("Europe/Paris")
S = DossierStatus


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def move(dossier, status, actor, at, **fields):
    before = dossier.status
    dossier.status = status
    dossier.waiting_since = at
    for name, value in fields.items():
        setattr(dossier, name, value)
    with clock.frozen(at):
        sla.on_transition(dossier, before, actor, at)
    db.session.flush()


def sent_by_rule():
    rows = db.session.execute(
        db.select(ReminderLog.dossier_id, ReminderRule.action_type, ReminderRule.days)
        .join(ReminderRule, ReminderRule.id == ReminderLog.rule_id)
        .order_by(ReminderLog.dossier_id)
    ).all()
    return {(r.dossier_id, r.action_type, r.days) for r in rows}


def test_the_daily_reminders_of_b65_go_to_the_expected_people_at_the_expected_levels(ctx):
    expert, admin = gen_expert(ctx), gen_admin(ctx)
    run = paris("2027-01-20T09:00")  # a Wednesday

    def at_day(status, days, **fields):
        since = run - timedelta(days=days, hours=1)  # entered the situation J-days, at 08:00
        return gen_dossier(
            ctx, client=gen_client(ctx), status=status, waiting_since=since, **fields
        )

    accept = at_day(S.EXPERT_PENDING_ACCEPTANCE, 1, pending_expert_id=expert.id)
    review = at_day(S.DOCUMENTS_SENT, 5, expert=expert)
    requested = at_day(S.DOCUMENTS_REQUESTED, 15, expert=expert)
    too_early = at_day(S.DOCUMENTS_REQUESTED, 4, expert=expert)
    audit = at_day(S.AUDIT_IN_PROGRESS, 8, expert=expert)  # J+7 passed yesterday: still J+7
    quote = at_day(S.QUOTE_PROPOSED, 20, product="ELEC", expert=expert)
    done = at_day(S.COMPLETED, 30, expert=expert)
    with clock.frozen(run):
        assert sla.reminders.daily(run) == 5
    assert sent_by_rule() == {
        (accept.id, "expert_pending_acceptance", 1),
        (review.id, "documents_pending_validation", 5),
        (requested.id, "documents_requested", 15),
        (audit.id, "audit_to_complete", 7),  # a missed day sends the rung reached, once
        (quote.id, "client_no_response_critical", 20),
    }
    assert too_early.id and done.id  # J+4 and a completed dossier: nothing

    def summary_to(user) -> int:
        return db.session.scalar(
            db.select(db.func.count(Email.id)).where(
                Email.template == "reminder_summary", Email.recipient == user.email
            )
        )

    def told(user) -> int:
        return db.session.scalar(
            db.select(db.func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.type == "dossier_reminder"
            )
        )

    # the expert: one notification per client (four: J+20 on a quote is for the admins
    # alone), one summary email for all
    assert (told(expert), summary_to(expert)) == (4, 1)
    # J+15 documents requested: the client, the expert and the admins (B §6.5)
    assert (told(requested.client), summary_to(requested.client)) == (1, 1)
    # J+5 review: the client hears the expert is on it; J+1 acceptance: the client hears nothing
    assert told(review.client) == 1 and told(accept.client) == 0
    # admins: the J+15 documents and the J+20 silent client
    assert (told(admin), summary_to(admin)) == (2, 1)
    with clock.frozen(run):
        assert sla.reminders.daily(run) == 0  # a rerun the same day sends nothing


def test_admins_get_one_notification_per_client_not_a_flood(ctx):
    admin = gen_admin(ctx)
    client = gen_client(ctx)
    run = paris("2027-01-20T09:00")
    for product in ("TICPE", "URSSAF", "DFS"):
        gen_dossier(
            ctx,
            client=client,
            product=product,
            status=S.PENDING_ADMIN_VALIDATION,
            waiting_since=run - timedelta(days=3, hours=1),
        )
    with clock.frozen(run):
        assert sla.reminders.daily(run) == 3
    titles = db.session.scalars(
        db.select(Notification.title).where(Notification.user_id == admin.id)
    ).all()
    assert len(titles) == 1 and "3" in titles[0]


@pytest.fixture
def waiting(ctx):
    """Documents requested from a client on Monday 11 January 2027 at 10:00."""
    client, expert = gen_client(ctx), gen_expert(ctx)
    d = gen_dossier(ctx, client=client, expert=expert, status=S.DOCUMENTS_VALIDATED)
    move(d, S.DOCUMENTS_REQUESTED, expert, paris("2027-01-11T10:00"))
    ctx.commit()
    return d, client, expert


def reminders_of(d):
    return db.session.scalars(
        db.select(Reminder).where(Reminder.dossier_id == d.id).order_by(Reminder.n)
    ).all()


def test_a_pending_item_is_chased_on_its_cadence_then_stops(ctx, waiting):
    d, client, expert = waiting
    (first,) = reminders_of(d)
    assert first.due_at == paris("2027-01-13T10:00")  # +2 business days
    with clock.frozen(paris("2027-01-13T09:59")):
        assert sla.run(paris("2027-01-13T09:59"), daily=False).reminders == 0
    with clock.frozen(paris("2027-01-13T10:00")):
        assert sla.run(paris("2027-01-13T10:00"), daily=False).reminders == 1
    first, second = reminders_of(d)
    assert first.status == ReminderStatus.SENT
    assert second.due_at == paris("2027-01-18T10:00")  # +5 business days from the request
    assert db.session.scalar(
        db.select(Email.recipient).where(Email.template == "reminder_item")
    ) == (client.email)
    for at in ("2027-01-18T10:00", "2027-01-22T10:00", "2027-03-01T10:00"):
        with clock.frozen(paris(at)):
            sla.run(paris(at), daily=False)
    assert [r.status for r in reminders_of(d)] == [ReminderStatus.SENT] * 3  # at most three


def test_a_reminder_is_cancelled_when_the_document_arrives(ctx, waiting):
    d, client, expert = waiting
    move(d, S.DOCUMENTS_SENT, client, paris("2027-01-12T15:00"))
    ctx.commit()
    (first,) = reminders_of(d)
    assert (first.status, first.cancelled_reason) == (ReminderStatus.CANCELLED, "satisfied")
    with clock.frozen(paris("2027-01-13T10:00")):
        assert sla.run(paris("2027-01-13T10:00"), daily=False).reminders == 0
    assert db.session.scalar(db.select(Email.id).where(Email.template == "reminder_item")) is None


def test_a_dossier_closed_while_a_reminder_is_planned_sends_nothing(ctx, waiting):
    d, client, expert = waiting
    # closed behind the clocks' back (a crash between two writes): the send checks again
    ctx.execute(db.update(Reminder).values(due_at=paris("2027-01-12T10:00")))
    d.status = S.CANCELLED
    for c in sla.clocks.open_clocks(d.id):
        c.status = c.status.__class__("cancelled")
    ctx.commit()
    with clock.frozen(paris("2027-01-12T10:00")):
        assert sla.reminders.send_due(paris("2027-01-12T10:00")) == 0
    (first,) = reminders_of(d)
    assert (first.status, first.cancelled_reason) == (ReminderStatus.CANCELLED, "moved_on")


def test_quiet_hours_hold_a_reminder_until_they_end(ctx, waiting):
    d, client, expert = waiting
    ctx.execute(db.update(Reminder).values(due_at=paris("2027-01-13T07:00")))
    preferences.update(client, {("dossiers", "in_app"), ("dossiers", "email")}, "20", "8", False)
    with clock.frozen(paris("2027-01-13T07:00")):
        assert sla.reminders.send_due(paris("2027-01-13T07:00")) == 0
    (first,) = reminders_of(d)
    assert first.status == ReminderStatus.SCHEDULED and first.due_at == paris("2027-01-13T08:00")


def test_send_a_reminder_now(ctx, waiting):
    d, client, expert = waiting
    with clock.frozen(paris("2027-01-11T11:00")):
        sla.reminders.remind_now(expert, d, paris("2027-01-11T11:00"))
        with pytest.raises(InvalidTransition):  # a double click does not send two
            sla.reminders.remind_now(expert, d, paris("2027-01-11T11:30"))
    with pytest.raises(NotFound):
        sla.reminders.remind_now(gen_expert(ctx), d)
    manual = [r for r in reminders_of(d) if r.source == "manual"]
    assert len(manual) == 1 and manual[0].status == ReminderStatus.SENT
    other = gen_dossier(
        ctx, client=client, product="URSSAF", expert=expert, status=S.AUDIT_IN_PROGRESS
    )
    with pytest.raises(InvalidTransition):
        sla.reminders.remind_now(expert, other)  # nothing waits on the client there


def test_remind_everyone_overdue(ctx, waiting):
    d, client, expert = waiting
    late_at = paris("2027-01-25T10:00")  # the 3-day target for documents is long gone
    with clock.frozen(late_at):
        assert sla.reminders.remind_overdue(late_at) == 1
        assert sla.reminders.remind_overdue(late_at) == 0  # reminded within the day


def test_the_morning_report(ctx, waiting):
    admin = gen_admin(ctx)
    at = paris("2027-01-25T07:00")
    with clock.frozen(at):
        sla.sweep(at)
        assert sla.reminders.morning_report(at) == 1
    body = db.session.scalar(db.select(Email.body_text).where(Email.template == "morning_report"))
    assert admin.email == db.session.scalar(
        db.select(Email.recipient).where(Email.template == "morning_report")
    )
    assert "1" in body
