"""Clocks on dossiers: start, pause and resume, priority changes, reopening, the ladder once per
level (even under concurrent sweeps), sticky breaches and alerts that close themselves."""

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.core import clock
from app.extensions import db
from app.models import (
    Alert,
    AlertStatus,
    BusinessCalendar,
    CalendarClosure,
    CalendarInterval,
    ClockStatus,
    DossierStatus,
    Email,
    Level,
    Notification,
    Party,
    Priority,
    SlaClock,
    SlaEvent,
    SlaPolicy,
    SlaTarget,
)
from app.services import sla
from tests.factories.models import (
    gen_admin,
    gen_client,
    gen_dossier,
    gen_expert,
    gen_firm,
    gen_thread,
)

PARIS = ZoneInfo("Europe/Paris")
S = DossierStatus


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def move(dossier, status, actor, at, **fields):
    """What a transition does to the clocks, at a chosen instant."""
    before = dossier.status
    dossier.status = status
    for name, value in fields.items():
        setattr(dossier, name, value)
    with clock.frozen(at):
        sla.on_transition(dossier, before, actor, at)
    db.session.flush()


def clocks_of(dossier, code=None):
    query = db.select(SlaClock).where(SlaClock.dossier_id == dossier.id).order_by(SlaClock.id)
    if code:
        query = query.where(SlaClock.code == code)
    return db.session.scalars(query).all()


def sweep(at):
    with clock.frozen(at):
        return sla.sweep(at)


@pytest.fixture
def people(ctx):
    expert = gen_expert(ctx)
    client = gen_client(ctx)
    admin = gen_admin(ctx)
    return client, expert, admin


def test_the_expert_clock_starts_at_selection_and_their_answer_stops_it(ctx, people):
    client, expert, _ = people
    d = gen_dossier(ctx, client=client, status=S.ADMIN_VALIDATED)
    # Monday 10:00: 2 h 30 before lunch, then 1 h 15 after it (225 business minutes)
    move(
        d,
        S.EXPERT_PENDING_ACCEPTANCE,
        client,
        paris("2027-01-11T10:00"),
        pending_expert_id=expert.id,
    )
    (c,) = clocks_of(d)
    assert (c.code, c.party, c.responsible_id) == (
        "expert_pending_acceptance",
        Party.EXPERT,
        expert.id,
    )
    assert c.started_at == paris("2027-01-11T10:00")  # from selection, not from the dossier's birth
    assert c.due_at == paris("2027-01-11T15:15")
    assert c.warn_at == paris("2027-01-11T14:19")  # 25 % of the target (56 min), at most 2 h
    assert c.next_check_at == c.warn_at
    move(
        d,
        S.EXPERT_ASSIGNED,
        expert,
        paris("2027-01-11T11:00"),
        expert_id=expert.id,
        pending_expert_id=None,
    )
    db.session.refresh(c)
    assert (c.status, c.satisfied_at, c.breached_at) == (
        ClockStatus.SATISFIED,
        paris("2027-01-11T11:00"),
        None,
    )
    assert [x.code for x in clocks_of(d) if x.open] == ["resolution"]


def test_choosing_another_expert_starts_a_new_first_response(ctx, people):
    client, expert, _ = people
    other = gen_expert(ctx)
    d = gen_dossier(ctx, client=client, status=S.ADMIN_VALIDATED)
    move(
        d,
        S.EXPERT_PENDING_ACCEPTANCE,
        client,
        paris("2027-01-11T10:00"),
        pending_expert_id=expert.id,
    )
    move(
        d,
        S.EXPERT_PENDING_ACCEPTANCE,
        client,
        paris("2027-01-11T11:00"),
        pending_expert_id=other.id,
    )
    first, second = clocks_of(d, "expert_pending_acceptance")
    assert first.status == ClockStatus.CANCELLED and first.responsible_id == expert.id
    assert second.open and (second.responsible_id, second.cycle) == (other.id, 2)
    assert second.started_at == paris("2027-01-11T11:00")


def test_an_expiry_is_not_an_answer(ctx, people):
    client, expert, _ = people
    d = gen_dossier(ctx, client=client, status=S.ADMIN_VALIDATED)
    move(
        d,
        S.EXPERT_PENDING_ACCEPTANCE,
        client,
        paris("2027-01-11T10:00"),
        pending_expert_id=expert.id,
    )
    move(d, S.ADMIN_VALIDATED, None, paris("2027-01-13T10:00"), pending_expert_id=None)
    (c,) = clocks_of(d)
    assert c.status == ClockStatus.CANCELLED and c.satisfied_at is None


def test_pause_and_resume_push_the_due_time_by_the_business_time_paused(ctx, people):
    client, expert, _ = people
    d = gen_dossier(ctx, client=client, expert=expert, status=S.DOCUMENTS_SENT)
    move(d, S.DOCUMENTS_VALIDATED, expert, paris("2027-01-11T09:00"))
    (audit,) = clocks_of(d, "audit_to_complete")
    assert audit.due_at == paris("2027-01-15T18:00")  # 5 business days of 7 h 30
    # the expert asks for more documents on Tuesday at 09:00; the client answers Friday 09:00
    move(d, S.DOCUMENTS_REQUESTED, expert, paris("2027-01-12T09:00"))
    db.session.refresh(audit)
    assert audit.status == ClockStatus.PAUSED and audit.next_check_at is None
    move(d, S.DOCUMENTS_SENT, client, paris("2027-01-15T09:00"))
    db.session.refresh(audit)
    assert audit.status == ClockStatus.PAUSED  # from one paused status to another: still paused
    move(d, S.AUDIT_IN_PROGRESS, expert, paris("2027-01-15T09:00"))
    db.session.refresh(audit)
    assert audit.status == ClockStatus.RUNNING
    assert audit.paused_seconds == 3 * 450 * 60  # Tuesday, Wednesday, Thursday
    assert audit.due_at == paris("2027-01-20T18:00")  # three business days later than planned
    assert audit.started_at == paris("2027-01-11T09:00")


def test_a_dossier_back_from_hold_resumes_with_what_was_left(ctx, people):
    client, expert, admin = people
    d = gen_dossier(ctx, client=client, expert=expert, status=S.DOCUMENTS_SENT)
    move(d, S.DOCUMENTS_VALIDATED, expert, paris("2027-01-11T09:00"))
    (audit,) = clocks_of(d, "audit_to_complete")
    # on hold on Thursday at 12:30, with 11 h 30 of business time left; back three weeks later
    move(d, S.ON_HOLD, admin, paris("2027-01-14T12:30"))
    move(d, S.DOCUMENTS_VALIDATED, admin, paris("2027-02-04T09:00"))
    db.session.refresh(audit)
    assert audit.status == ClockStatus.RUNNING
    result = sweep(paris("2027-02-04T09:01"))
    assert (result.opened, result.escalated) == (0, 0)  # no instant escalation on reopening
    db.session.refresh(audit)
    assert audit.level == Level.NONE
    assert audit.due_at == paris("2027-02-05T14:30")  # the 11 h 30 that were left


def test_a_priority_change_keeps_the_time_already_spent(ctx, people):
    client, expert, admin = people
    default = db.session.scalar(db.select(SlaPolicy))
    urgent = SlaPolicy(name="Urgent", rank=10, priority=Priority.URGENT)
    urgent.targets = [
        SlaTarget(
            code=t.code,
            metric=t.metric,
            party=t.party,
            start_status=t.start_status,
            stop_statuses=t.stop_statuses,
            pause_statuses=t.pause_statuses,
            business_minutes=t.business_minutes // 5
            if t.code == "audit_to_complete"
            else t.business_minutes,
        )
        for t in default.targets
    ]
    ctx.add(urgent)
    d = gen_dossier(ctx, client=client, expert=expert, status=S.DOCUMENTS_SENT)
    move(d, S.DOCUMENTS_VALIDATED, expert, paris("2027-01-11T09:00"))
    (audit,) = clocks_of(d, "audit_to_complete")
    assert audit.budget_minutes == 2250
    with clock.frozen(paris("2027-01-11T14:00")):
        sla.set_priority(admin, d.id, "urgent")
    db.session.refresh(audit)
    assert (audit.budget_minutes, audit.policy_id) == (450, urgent.id)
    assert audit.started_at == paris("2027-01-11T09:00")  # elapsed time carried over
    assert audit.due_at == paris("2027-01-11T18:00")


def _breached(ctx, people):
    """An expert in a firm, a documents review due Monday 18:00 and swept after it."""
    client, expert, admin = people
    manager = gen_expert(ctx)
    gen_firm(ctx, owner=manager, members=[expert])
    d = gen_dossier(ctx, client=client, expert=expert, status=S.DOCUMENTS_REQUESTED)
    move(d, S.DOCUMENTS_SENT, client, paris("2027-01-11T09:00"))
    (review,) = clocks_of(d, "documents_pending_validation")
    assert review.due_at == paris("2027-01-11T18:00")
    return d, review, manager


def test_the_ladder_step_by_step(ctx, people):
    client, expert, admin = people
    d, review, manager = _breached(ctx, people)

    def notified(type_):
        return sorted(
            db.session.scalars(db.select(Notification.user_id).where(Notification.type == type_))
        )

    assert sweep(paris("2027-01-11T15:00")).escalated == 0
    assert sweep(paris("2027-01-11T16:07")).escalated == 0
    sweep(paris("2027-01-11T16:08"))  # warn: 25 % of 7 h 30 (1 h 52) before it is due
    assert notified("dossier_sla_warning") == [expert.id]
    result = sweep(paris("2027-01-11T18:01"))
    assert result.opened == 1
    assert notified("dossier_sla_breach") == sorted([expert.id, manager.id])
    assert (
        db.session.scalar(db.select(Email.recipient).where(Email.template == "sla_breach"))
        == expert.email
    )
    alert = db.session.scalar(db.select(Alert))
    assert (alert.level, alert.responsible_id, alert.status) == (
        Level.BREACHED,
        expert.id,
        AlertStatus.OPEN,
    )
    # second level: breach + half the target (3 h 45) → Tuesday 14:15; email to the admins
    sweep(paris("2027-01-12T14:14"))
    assert db.session.scalar(db.select(Email.id).where(Email.template == "sla_escalated")) is None
    sweep(paris("2027-01-12T14:15"))
    assert (
        db.session.scalar(db.select(Email.recipient).where(Email.template == "sla_escalated"))
        == admin.email
    )
    # third level: breach + one business day → Tuesday 18:00; an urgent admin notification
    sweep(paris("2027-01-12T18:00"))
    assert notified("dossier_sla_critical") == [admin.id]
    db.session.refresh(alert)
    db.session.refresh(review)
    assert alert.level == Level.THIRD and review.next_check_at is None
    assert review.breached_at == paris("2027-01-11T18:00")
    assert sweep(paris("2027-01-20T09:00")).escalated == 0  # nothing left to climb


def test_a_late_sweep_skips_the_warning_and_reruns_change_nothing(ctx, people):
    d, review, manager = _breached(ctx, people)
    first = sweep(paris("2027-01-18T09:00"))
    assert first.opened == 1
    assert (
        db.session.scalar(
            db.select(db.func.count(Notification.id)).where(
                Notification.type == "dossier_sla_warning"
            )
        )
        == 0
    )
    assert sorted(db.session.scalars(db.select(SlaEvent.level))) == [1, 2, 3, 4]
    again = sweep(paris("2027-01-18T09:00"))
    assert (again.reminders, again.opened, again.closed, again.escalated) == (0, 0, 0, 0)


def test_a_breach_stays_recorded_and_its_alert_closes_itself(ctx, people):
    client, expert, admin = people
    d, review, manager = _breached(ctx, people)
    sweep(paris("2027-01-11T18:05"))
    move(d, S.DOCUMENTS_VALIDATED, expert, paris("2027-01-12T10:00"))
    db.session.refresh(review)
    assert review.status == ClockStatus.SATISFIED
    assert review.breached_at == paris("2027-01-11T18:00")  # sticky
    alert = db.session.scalar(db.select(Alert))
    assert alert.status == AlertStatus.RESOLVED and alert.closed_by_itself


def test_a_cancelled_dossier_owes_nothing(ctx, people):
    client, expert, admin = people
    d, review, manager = _breached(ctx, people)
    move(d, S.CANCELLED, admin, paris("2027-01-11T12:00"))
    assert all(c.status == ClockStatus.CANCELLED for c in clocks_of(d))
    assert sweep(paris("2027-02-01T09:00")).escalated == 0


def test_the_experts_own_calendar_and_leave_count(ctx, people):
    client, expert, _ = people
    own = BusinessCalendar(name="Mes horaires", user_id=expert.id, region="FR")
    own.intervals = [
        CalendarInterval(weekday=d, start_minute=8 * 60, end_minute=16 * 60) for d in range(4)
    ]
    own.closures = [
        CalendarClosure(
            start_date=datetime(2027, 1, 12).date(),
            end_date=datetime(2027, 1, 13).date(),
            reason="Congés",
        )
    ]
    ctx.add(own)
    ctx.flush()
    d = gen_dossier(ctx, client=client, expert=expert, status=S.DOCUMENTS_REQUESTED)
    move(d, S.DOCUMENTS_SENT, client, paris("2027-01-11T12:00"))
    (review,) = clocks_of(d, "documents_pending_validation")
    assert review.calendar_id == own.id
    # 450 minutes: 4 h on Monday, then (leave on Tuesday and Wednesday) 3 h 30 on Thursday
    assert review.due_at == paris("2027-01-14T11:30")


def test_next_response_rounds_follow_the_messages(ctx, people):
    from app.services import messaging

    client, expert, admin = people
    d = gen_dossier(ctx, client=client, expert=expert, status=S.AUDIT_IN_PROGRESS)
    thread = gen_thread(ctx, dossier=d, people=[client, expert])
    ctx.commit()
    with clock.frozen(paris("2027-01-11T10:00")):
        messaging.post(thread.id, client, "Où en est mon dossier ?")
        messaging.post(thread.id, client, "Et une deuxième question")
    (round1,) = clocks_of(d, "contact_message")
    assert round1.responsible_id == expert.id and round1.open
    with clock.frozen(paris("2027-01-11T11:00")):
        messaging.post(thread.id, expert, "Je m'en occupe.")
        messaging.post(thread.id, client, "Merci, encore une chose")
    first, second = clocks_of(d, "contact_message")
    assert first.status == ClockStatus.SATISFIED and first.satisfied_at == paris("2027-01-11T11:00")
    assert second.open and second.cycle == 2


def test_two_concurrent_sweeps_climb_each_rung_once(app, people):
    client, expert, admin = people
    with app.test_request_context():
        d = gen_dossier(db.session, client=client, expert=expert, status=S.DOCUMENTS_REQUESTED)
        move(d, S.DOCUMENTS_SENT, client, paris("2027-01-11T09:00"))
        db.session.commit()
    at = paris("2027-01-18T09:00")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            with app.test_request_context():
                barrier.wait()
                results.append(sla.sweep(at))
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r.opened for r in results) == 1
    with app.app_context():
        assert sorted(db.session.scalars(db.select(SlaEvent.level))) == [1, 2, 3, 4]
        assert db.session.scalar(db.select(db.func.count(Alert.id))) == 1
        critical = db.select(db.func.count(Notification.id)).where(
            Notification.type == "dossier_sla_critical"
        )
        assert db.session.scalar(critical) == 1
        breach_emails = db.select(db.func.count(Email.id)).where(Email.template == "sla_breach")
        assert db.session.scalar(breach_emails) == 1


def test_the_sweep_reads_only_what_came_due(ctx, people):
    client, expert, _ = people
    d = gen_dossier(ctx, client=client, expert=expert, status=S.DOCUMENTS_REQUESTED)
    move(d, S.DOCUMENTS_SENT, client, paris("2027-01-11T09:00"))
    ctx.commit()
    due = "SELECT id FROM sla_clocks WHERE status = 'running' AND next_check_at <= :at"
    if db.engine.dialect.name == "sqlite":
        plan = db.session.execute(
            db.text("EXPLAIN QUERY PLAN " + due), {"at": paris("2027-01-11T10:00")}
        ).all()
        assert "ix_sla_clocks_due" in " ".join(str(r) for r in plan)
    else:  # on a handful of rows PostgreSQL may pick any index: the right one must exist
        indexes = db.inspect(db.engine).get_indexes("sla_clocks")
        assert any(ix["column_names"] == ["status", "next_check_at"] for ix in indexes)


def test_many_late_dossiers_are_one_digest_per_person_not_a_flood(ctx, people, smtp):
    """A catch-up after the sweeper was down: an expert with three late dossiers gets one
    notification and one email listing the three; each admin one escalation email; and every
    dossier still has its own alert."""
    client, expert, admin = people
    late = []
    for _ in range(3):
        owner = gen_client(ctx)  # one dossier per client and product
        d = gen_dossier(ctx, client=owner, expert=expert, status=S.DOCUMENTS_REQUESTED)
        move(d, S.DOCUMENTS_SENT, owner, paris("2027-01-11T09:00"))
        late.append(d.id)
    result = sweep(paris("2027-01-18T09:00"))
    assert result.opened == 3 and db.session.scalar(db.select(db.func.count(Alert.id))) == 3
    (note,) = db.session.scalars(
        db.select(Notification).where(
            Notification.user_id == expert.id, Notification.type == "dossier_sla_breach"
        )
    )
    assert "3" in note.title and all(f"#{i}" in note.body for i in late)
    (email,) = db.session.scalars(db.select(Email).where(Email.template == "sla_breach"))
    assert email.recipient == expert.email
    assert all(f"#{i}" in email.body_text for i in late)
    escalated = db.session.scalars(db.select(Email).where(Email.template == "sla_escalated")).all()
    assert [e.recipient for e in escalated] == [admin.email]
    assert all(f"#{i}" in escalated[0].body_text for i in late)
    critical = db.session.scalars(
        db.select(Notification).where(Notification.type == "dossier_sla_critical")
    ).all()
    assert [n.user_id for n in critical] == [admin.id]
    assert sweep(paris("2027-01-18T09:00")).escalated == 0
