"""Which policy a dossier falls under, and whose calendar a clock counts in.

Reads only: the clocks (`clocks.py`) call these inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.extensions import db
from app.models import (
    BusinessCalendar,
    CalendarClosure,
    Dossier,
    FirmMember,
    Party,
    SlaPolicy,
)
from app.services import plans
from app.services.sla.calendars import Calendar


def client_plan(dossier: Dossier) -> str:
    return plans.plan_code_of(dossier.client_id)


def active_policies() -> list[SlaPolicy]:
    return db.session.scalars(
        db.select(SlaPolicy)
        .where(SlaPolicy.active.is_(True))
        .order_by(SlaPolicy.rank, SlaPolicy.id)
    ).all()


def matches(policy: SlaPolicy, product_id: int, plan: str, priority) -> bool:
    return (
        (policy.product_id is None or policy.product_id == product_id)
        and (policy.client_plan is None or policy.client_plan == plan)
        and (policy.priority is None or policy.priority == priority)
    )


def policy_for(dossier: Dossier, policies: list[SlaPolicy] | None = None) -> SlaPolicy | None:
    """By rank, the first active policy whose every condition holds (no overlap rules to keep:
    the order decides)."""
    plan = client_plan(dossier)
    for policy in active_policies() if policies is None else policies:
        if matches(policy, dossier.product_id, plan, dossier.priority):
            return policy
    return None


def shadowed_by(policy: SlaPolicy, others: list[SlaPolicy]) -> SlaPolicy | None:
    """An active policy ranked before `policy` that matches every dossier `policy` would: with
    it in place, `policy` never applies."""
    for other in others:
        if other.id == policy.id or not other.active:
            continue
        if (other.rank, other.id or 0) >= (policy.rank, policy.id or 1 << 62):
            continue
        if all(
            getattr(other, field) is None or getattr(other, field) == getattr(policy, field)
            for field in ("product_id", "client_plan", "priority")
        ):
            return other
    return None


@dataclass(frozen=True)
class Counted:
    """A calendar as the clocks use it: its row id and its value."""

    id: int
    calendar: Calendar


_values: dict[tuple[int, object], Calendar] = {}


def _value(row_id: int, updated_at) -> Calendar:
    """The calendar's value, rebuilt only when its row changed (every edit touches
    `updated_at`): a transition reads one small row, not the intervals and closures."""
    key = (row_id, updated_at)
    found = _values.get(key)
    if found is None:
        row = db.session.get(BusinessCalendar, row_id)
        found = to_value(row)
        if len(_values) > 512:
            _values.clear()
        _values[key] = found
    return found


def to_value(row: BusinessCalendar) -> Calendar:
    intervals = [(i.weekday, i.start_minute, i.end_minute) for i in row.intervals]
    return Calendar.of(intervals, tz=row.tz, region=row.region, closures=closure_days(row.closures))


def closure_days(closures: list[CalendarClosure]):
    for closure in closures:
        day = closure.start_date
        while day <= closure.end_date:
            yield day
            day += timedelta(days=1)


def calendar_for(policy: SlaPolicy | None, party: Party, responsible_id: int | None) -> Counted:
    """The policy's calendar if it names one; else the responsible expert's own, then their
    firm's; else the platform's default."""
    c = BusinessCalendar
    if policy is not None and policy.calendar_id is not None:
        where = c.id == policy.calendar_id
    elif party == Party.EXPERT and responsible_id is not None:
        firm = db.select(FirmMember.firm_id).where(FirmMember.user_id == responsible_id)
        where = db.or_(c.user_id == responsible_id, c.firm_id.in_(firm), c.is_default.is_(True))
    else:
        where = c.is_default.is_(True)
    rows = db.session.execute(
        db.select(c.id, c.updated_at, c.user_id, c.firm_id).where(where)
    ).all()
    if not rows:
        raise LookupError("no default business calendar: run `flask seed catalogue`")
    # own calendar, then the firm's, then the default
    row = min(rows, key=lambda r: 0 if r.user_id is not None else 1 if r.firm_id else 2)
    return Counted(row.id, _value(row.id, row.updated_at))


def calendar_by_id(calendar_id: int | None) -> Counted:
    c = BusinessCalendar
    where = c.id == calendar_id if calendar_id is not None else c.is_default.is_(True)
    row = db.session.execute(db.select(c.id, c.updated_at).where(where)).first()
    if row is None:
        return calendar_for(None, Party.ADMIN, None)
    return Counted(row.id, _value(row.id, row.updated_at))
