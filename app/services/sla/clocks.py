"""Clocks follow the dossier: every transition, message and document event calls in here inside
the caller's transaction, so a clock is never out of step with the state it measures.

A clock counts business time from the moment the party waited for became responsible. Its due
and warning instants are always `started_at + budget + paused time` in its calendar (one
formula: starting, resuming, a priority change and the recompute job all use it), so a pause
pushes them forward by exactly the business time it lasted, and a reopened dossier resumes
with what was left instead of escalating at once."""

from __future__ import annotations

from datetime import datetime

from app.extensions import db
from app.models import (
    Alert,
    AlertStatus,
    ClockStatus,
    Dossier,
    DossierStatus,
    Level,
    Party,
    SlaClock,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
    User,
    utcnow,
)
from app.realtime import notify
from app.services.sla import policies, reminders
from app.services.sla.calendars import Calendar, add_business_minutes, business_seconds_between

OPEN = (ClockStatus.RUNNING, ClockStatus.PAUSED)
# a stopped dossier owes nobody anything; on hold, every clock waits with it
ENDED = frozenset({DossierStatus.CANCELLED, DossierStatus.ARCHIVED, DossierStatus.COMPLETED})
HOLD = frozenset({DossierStatus.ON_HOLD})


def default_warning(budget_minutes: int) -> int:
    """25 % of the target or two business hours, whichever is smaller (peers.md §6.3)."""
    return max(1, min(budget_minutes // 4, 120))


def ladder_at(clock: SlaClock, calendar: Calendar, level: int) -> datetime | None:
    """When `clock` reaches `level` of the ladder (None: there is no such rung)."""
    if level == Level.WARNED:
        return clock.warn_at
    if level == Level.BREACHED:
        return clock.due_at
    if level == Level.SECOND:
        return add_business_minutes(calendar, clock.due_at, max(clock.budget_minutes / 2, 120))
    if level == Level.THIRD:
        return add_business_minutes(calendar, clock.due_at, calendar.day_minutes)
    return None


def schedule(clock: SlaClock, calendar: Calendar) -> None:
    """Due, warning and next-check instants from the start, the budget and the paused time."""
    total = clock.budget_minutes + clock.paused_seconds / 60
    clock.due_at = add_business_minutes(calendar, clock.started_at, total)
    clock.warn_at = add_business_minutes(
        calendar, clock.started_at, max(total - clock.warn_before_minutes, 0)
    )
    clock.next_check_at = (
        ladder_at(clock, calendar, clock.level + 1) if clock.status == ClockStatus.RUNNING else None
    )


def responsible_for(party: Party, dossier: Dossier) -> int | None:
    if party == Party.EXPERT:
        if dossier.status == DossierStatus.EXPERT_PENDING_ACCEPTANCE:
            return dossier.pending_expert_id
        return dossier.expert_id
    if party == Party.CLIENT:
        return dossier.client_id
    return None  # the admins, as a team


def open_clocks(dossier_id: int) -> list[SlaClock]:
    return db.session.scalars(
        db.select(SlaClock)
        .where(SlaClock.dossier_id == dossier_id, SlaClock.status.in_(OPEN))
        .order_by(SlaClock.id)
    ).all()


def start(
    dossier: Dossier, policy: SlaPolicy, target: SlaTarget, at: datetime, cycle: int | None = None
) -> SlaClock:
    responsible = responsible_for(target.party, dossier)
    counted = policies.calendar_for(policy, target.party, responsible)
    if cycle is None:
        last = db.session.scalar(
            db.select(db.func.max(SlaClock.cycle)).where(
                SlaClock.dossier_id == dossier.id, SlaClock.code == target.code
            )
        )
        cycle = (last or 0) + 1
    clock = SlaClock(
        dossier_id=dossier.id,
        target_id=target.id,
        policy_id=policy.id,
        policy_version=policy.version,
        code=target.code,
        metric=target.metric,
        party=target.party,
        responsible_id=responsible,
        calendar_id=counted.id,
        cycle=cycle,
        budget_minutes=target.business_minutes,
        warn_before_minutes=target.warn_before_minutes or default_warning(target.business_minutes),
        pause_statuses=list(target.pause_statuses or []),
        stop_statuses=list(target.stop_statuses or []),
        started_at=at,
        status=ClockStatus.RUNNING,
        level=Level.NONE,
        paused_seconds=0,
    )
    schedule(clock, counted.calendar)
    db.session.add(clock)
    reminders.schedule_first(clock)  # an item the client owes is chased on its cadence
    return clock


def _calendar(clock: SlaClock) -> Calendar:
    return policies.calendar_by_id(clock.calendar_id).calendar


def pause(clock: SlaClock, at: datetime) -> None:
    if clock.status != ClockStatus.RUNNING:
        return  # moving between two paused statuses keeps the first pause
    clock.status, clock.paused_since, clock.next_check_at = ClockStatus.PAUSED, at, None


def resume(clock: SlaClock, at: datetime) -> None:
    if clock.status != ClockStatus.PAUSED:
        return
    calendar = _calendar(clock)
    clock.paused_seconds += business_seconds_between(calendar, clock.paused_since, at)
    clock.status, clock.paused_since = ClockStatus.RUNNING, None
    schedule(clock, calendar)


def end(clock: SlaClock, at: datetime, satisfied: bool) -> None:
    calendar = _calendar(clock)
    if clock.status == ClockStatus.PAUSED:  # its paused time counts to the end, for reports
        clock.paused_seconds += business_seconds_between(calendar, clock.paused_since, at)
        clock.paused_since = None
    worked = business_seconds_between(calendar, clock.started_at, at) - clock.paused_seconds
    clock.worked_seconds = max(worked, 0)
    clock.status = ClockStatus.SATISFIED if satisfied else ClockStatus.CANCELLED
    if satisfied:
        clock.satisfied_at = at
    clock.ended_at, clock.next_check_at = at, None
    if clock.party == Party.CLIENT:  # the item moved on: its reminders are never sent
        reminders.cancel_for(clock.id, "satisfied" if satisfied else "cancelled")
    if clock.level >= Level.BREACHED:
        close_alert(clock.id, at)


def close_alert(clock_id: int, at: datetime) -> None:
    """Its condition cleared: the alert closes by itself (nobody has to tidy up)."""
    closed = db.session.execute(
        db.update(Alert)
        .where(Alert.clock_id == clock_id, Alert.status != AlertStatus.RESOLVED)
        .values(status=AlertStatus.RESOLVED, resolved_at=at, closed_by_itself=True, updated_at=at)
    ).rowcount
    if closed:
        notify.to_admins("alerts:changed")


def on_transition(
    dossier: Dossier, before: DossierStatus, actor: User | None, at: datetime | None = None
) -> None:
    """The dossier moved from `before` to its current status by `actor` (None: the platform)."""
    at = at or utcnow()
    status = dossier.status
    clocks = open_clocks(dossier.id)
    restart = set()
    for clock in clocks:
        if (
            clock.metric == SlaMetric.FIRST_RESPONSE
            and status == before
            and responsible_for(clock.party, dossier) != clock.responsible_id
        ):  # another expert asked (the client chose again): theirs is a new first response
            end(clock, at, satisfied=False)
            restart.add(clock.code)
        elif status in ENDED and not (
            status in clock.stop_statuses and clock.metric != SlaMetric.FIRST_RESPONSE
        ):
            end(clock, at, satisfied=False)
        elif clock.metric == SlaMetric.FIRST_RESPONSE:
            if status != before:  # answered by the one waited for, or taken from them
                end(clock, at, satisfied=actor is not None and _is_responsible(clock, actor))
        elif clock.metric == SlaMetric.NEXT_RESPONSE:
            if clock.party == Party.EXPERT:
                clock.responsible_id = dossier.expert_id
        elif status in clock.stop_statuses:
            end(clock, at, satisfied=True)
        elif status in HOLD or status in clock.pause_statuses:
            pause(clock, at)
        else:
            resume(clock, at)
            if clock.party == Party.EXPERT and dossier.expert_id:
                clock.responsible_id = dossier.expert_id
    if status in ENDED or status in HOLD or (status == before and not restart):
        return
    running = {c.code for c in clocks if c.open}
    starting = [
        t
        for t in _targets(dossier)
        if t[1].start_status == status.value and (status != before or t[1].code in restart)
    ]
    for policy, target in starting:
        if target.code not in running:
            start(dossier, policy, target, at)


def on_activity(dossier: Dossier, actor: User, at: datetime | None = None) -> None:
    """Someone did something on the dossier that is not a transition (a document sent): the
    first move of the party waited for answers its first-response clock."""
    at = at or utcnow()
    for clock in open_clocks(dossier.id):
        if clock.metric == SlaMetric.FIRST_RESPONSE and _is_responsible(clock, actor):
            end(clock, at, satisfied=True)


def on_message(dossier: Dossier, sender: User, at: datetime | None = None) -> None:
    """A human message in the dossier's thread: the client's starts a next-response round, a
    reply from the expert (or an admin) ends it. System messages never come here."""
    at = at or utcnow()
    clocks = [
        c
        for c in open_clocks(dossier.id)
        if c.metric in (SlaMetric.NEXT_RESPONSE, SlaMetric.FIRST_RESPONSE)
    ]
    if sender.id == dossier.client_id:
        if dossier.status in ENDED or any(c.metric == SlaMetric.NEXT_RESPONSE for c in clocks):
            return  # the round already waits for a reply
        for policy, target in _targets(dossier):
            if target.metric == SlaMetric.NEXT_RESPONSE and (
                dossier.expert_id or target.party != Party.EXPERT
            ):
                start(dossier, policy, target, at)
        return
    for clock in clocks:
        if clock.metric == SlaMetric.NEXT_RESPONSE and (
            sender.is_admin or _is_responsible(clock, sender)
        ):
            end(clock, at, satisfied=True)
        elif clock.metric == SlaMetric.FIRST_RESPONSE and _is_responsible(clock, sender):
            end(clock, at, satisfied=True)


def reapply(dossier: Dossier, at: datetime | None = None, force: bool = False) -> int:
    """The dossier's policy may have changed (its priority, a policy edit being recomputed):
    each open clock takes its target from the policy that matches now, keeping its start and
    the time already paused (elapsed time carries over). A breach stays recorded; the ladder
    never steps back. Returns the clocks changed."""
    at = at or utcnow()
    targets = {t.code: (p, t) for p, t in _targets(dossier)}
    changed = 0
    for clock in open_clocks(dossier.id):
        found = targets.get(clock.code)
        if found is None:
            continue
        policy, target = found
        warn = target.warn_before_minutes or default_warning(target.business_minutes)
        same = (
            clock.policy_id == policy.id
            and clock.policy_version == policy.version
            and clock.budget_minutes == target.business_minutes
            and clock.warn_before_minutes == warn
        )
        if same and not force:
            continue
        clock.policy_id, clock.policy_version, clock.target_id = (
            policy.id,
            policy.version,
            target.id,
        )
        clock.budget_minutes, clock.warn_before_minutes = target.business_minutes, warn
        clock.pause_statuses = list(target.pause_statuses or [])
        clock.stop_statuses = list(target.stop_statuses or [])
        before = (clock.due_at, clock.warn_at, clock.next_check_at)
        schedule(clock, _calendar(clock))  # a paused one gets its instants again on resuming
        changed += (clock.due_at, clock.warn_at, clock.next_check_at) != before or not same
    return changed


def _targets(dossier: Dossier) -> list[tuple[SlaPolicy, SlaTarget]]:
    policy = policies.policy_for(dossier)
    return [(policy, t) for t in policy.targets] if policy is not None else []


def _is_responsible(clock: SlaClock, user: User) -> bool:
    if clock.party == Party.ADMIN:
        return user.is_admin
    return clock.responsible_id is not None and clock.responsible_id == user.id
