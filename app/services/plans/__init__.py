"""Plans (docs/domain.md A9): the rows admins edit, the one pricing function (`pricing.py`),
and which plan, hence which success-fee rate, a client is on at a given instant.

Starter is the floor: a client with no live subscription is on it, so it can be edited but never
archived. A plan with subscribers (past or present) is archived, never deleted: its rows keep
what those subscribers bought."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from flask_babel import format_decimal
from flask_babel import gettext as _

from app.core import audit
from app.core.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    Cycle,
    Plan,
    PlanStatus,
    Subscription,
    SubscriptionStatus,
    User,
    utcnow,
)
from app.services.plans import pricing
from app.services.plans.pricing import PARAMETERS, Quote, quote

FREE_PLAN = "starter"
LIVE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
DEFAULTS = json.loads((Path(__file__).parent / "plans.json").read_text(encoding="utf-8"))
_CODE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
MAX_UNIT_CENTS = 1_000_000  # 10 000 € a unit: beyond that it is a typo
MAX_BASE_CENTS = 10_000_000


def install_defaults() -> int:
    """Adds the default plans that are missing (by code); an admin's edits stay."""
    have = set(db.session.scalars(db.select(Plan.code)))
    added = 0
    for position, spec in enumerate(DEFAULTS["plans"]):
        if spec["code"] in have:
            continue
        db.session.add(
            Plan(
                code=spec["code"],
                name=spec["name"],
                tagline=spec.get("tagline", ""),
                features=spec.get("features", []),
                on_request=spec.get("on_request", False),
                base_cents=spec["base_cents"],
                prices=spec.get("prices", {}),
                yearly_discount_bp=spec.get("yearly_discount_bp", 0),
                success_fee_bp=spec["success_fee_bp"],
                position=position,
            )
        )
        added += 1
    db.session.commit()
    return added


# -- reading -------------------------------------------------------------------------------------


def offered() -> list[Plan]:
    """The plans on the public page, in their order."""
    return db.session.scalars(
        db.select(Plan).where(Plan.status == PlanStatus.ACTIVE).order_by(Plan.position, Plan.id)
    ).all()


def listing() -> list[tuple[Plan, int]]:
    """Every plan with its number of live subscribers, for the admin page."""
    live = (
        db.select(Subscription.plan_id, db.func.count().label("n"))
        .where(Subscription.status.in_(LIVE))
        .group_by(Subscription.plan_id)
        .subquery()
    )
    rows = db.session.execute(
        db.select(Plan, db.func.coalesce(live.c.n, 0))
        .outerjoin(live, live.c.plan_id == Plan.id)
        .order_by(Plan.status, Plan.position, Plan.id)
    ).all()
    return [(plan, n) for plan, n in rows]


def get(plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound()
    return plan


def by_code(code: str) -> Plan | None:
    return db.session.scalar(db.select(Plan).where(Plan.code == code))


def plan_code_of(client_id: int | None) -> str:
    """The code of the plan `client_id` is on now (Starter without a live subscription)."""
    if client_id is None:
        return FREE_PLAN
    code = db.session.scalar(
        db.select(Plan.code)
        .join(Subscription, Subscription.plan_id == Plan.id)
        .where(Subscription.client_id == client_id, Subscription.status.in_(LIVE))
        .order_by(Subscription.id.desc())
        .limit(1)
    )
    return code or FREE_PLAN


def success_fee_bp(client_id: int, at: datetime) -> int | None:
    """The success-fee rate the client's plan gives for an audit validated at `at`: a live
    subscription's rate as bought if it had started by then, else the free plan's rate."""
    rate = db.session.scalar(
        db.select(Subscription.success_fee_bp)
        .where(
            Subscription.client_id == client_id,
            Subscription.status.in_(LIVE),
            Subscription.started_at <= at,
        )
        .order_by(Subscription.started_at.desc())
        .limit(1)
    )
    if rate is None:
        rate = db.session.scalar(db.select(Plan.success_fee_bp).where(Plan.code == FREE_PLAN))
    return rate


def quotes(params: dict[str, int], cycle: Cycle) -> list[tuple[Plan, Quote]]:
    return [(plan, quote(plan, params, cycle)) for plan in offered()]


# -- admin edits ---------------------------------------------------------------------------------


def _cents(values: dict, name: str, errors: dict, most: int, field: str) -> int:
    """`values[name]` in cents; a problem goes to `errors[field]` (the field as the form
    names it: the admin typed euros, not cents)."""
    value = values.get(name)
    if value is None or value == "":
        return 0
    try:
        cents = int(value)
    except (TypeError, ValueError):
        errors[field] = _("Enter an amount, for example 49 or 49,90.")
        return 0
    if not 0 <= cents <= most:
        errors[field] = _("Enter an amount from 0 to %(max)s €.", max=format_decimal(most // 100))
    return cents


def _checked(values: dict, plan: Plan | None) -> tuple[dict, dict]:
    """The edit as clean column values, or every field's problem at once."""
    errors: dict[str, str] = {}
    clean: dict = {}
    if plan is None:
        code = (values.get("code") or "").strip().lower()
        if not _CODE.fullmatch(code):
            errors["code"] = _(
                "Use 2 to 32 lower-case letters, digits or dashes, starting with a letter."
            )
        elif by_code(code) is not None:
            errors["code"] = _("A plan with this code exists already.")
        clean["code"] = code
    name = (values.get("name") or "").strip()
    if not name:
        errors["name"] = _("Give the plan a name.")
    clean["name"] = name[:80]
    clean["tagline"] = (values.get("tagline") or "").strip()[:200]
    clean["description"] = (values.get("description") or "").strip()[:4000]
    clean["features"] = [f.strip()[:200] for f in values.get("features") or [] if f.strip()][:20]
    clean["on_request"] = bool(values.get("on_request"))
    clean["position"] = int(values.get("position") or 0)
    clean["base_cents"] = _cents(values, "base_cents", errors, MAX_BASE_CENTS, "base")
    prices = {}
    for code in PARAMETERS:
        included = values.get(f"{code}_included")
        unit = _cents(values, f"{code}_unit_cents", errors, MAX_UNIT_CENTS, f"{code}_unit")
        if included is not None and included != "" and not 0 <= int(included) <= 1_000_000:
            errors[f"{code}_included"] = _("Enter a number from 0 to 1 000 000.")
        if unit or included:
            prices[code] = {"included": int(included or 0), "unit_cents": unit}
    clean["prices"] = prices
    discount = values.get("yearly_discount_bp")
    discount = 0 if discount in (None, "") else int(discount)
    if not 0 <= discount <= 5000:
        errors["yearly_discount"] = _("A yearly discount is between 0 and 50 %.")
    clean["yearly_discount_bp"] = discount
    fee = values.get("success_fee_bp")
    if fee in (None, ""):
        errors["success_fee"] = _("Give the success fee: a plan without one would invoice 0 €.")
    elif not 100 <= int(fee) <= 5000:
        errors["success_fee"] = _("A success fee is between 1 and 50 %.")
    else:
        clean["success_fee_bp"] = int(fee)
    return clean, errors


def create(values: dict, actor: User, ip: str | None) -> Plan:
    clean, errors = _checked(values, None)
    if errors:
        raise ValidationFailed(_("Check the fields marked below."), **errors)
    plan = Plan(**clean)
    db.session.add(plan)
    db.session.flush()
    audit.record(actor, "plan.create", "plan", plan.id, ip, code=plan.code)
    db.session.commit()
    return plan


def update(plan: Plan, values: dict, actor: User, ip: str | None) -> Plan:
    clean, errors = _checked(values, plan)
    if errors:
        raise ValidationFailed(_("Check the fields marked below."), **errors)
    before = {k: getattr(plan, k) for k in clean}
    for key, value in clean.items():
        setattr(plan, key, value)
    changed = {k: [before[k], v] for k, v in clean.items() if before[k] != v}
    audit.record(actor, "plan.update", "plan", plan.id, ip, code=plan.code, changed=changed)
    db.session.commit()
    return plan


def subscriber_count(plan: Plan) -> int:
    return db.session.scalar(
        db.select(db.func.count(Subscription.id)).where(Subscription.plan_id == plan.id)
    )


def archive(plan: Plan, actor: User, ip: str | None) -> str:
    """Archives a plan that has (or had) subscribers, deletes one that never had any; returns
    "archived" or "deleted". The free plan stays: it is where every other client is."""
    if plan.code == FREE_PLAN:
        raise ValidationFailed(
            _("Starter is the plan of every client without a subscription: it cannot be archived.")
        )
    if subscriber_count(plan):
        plan.status = PlanStatus.ARCHIVED
        audit.record(actor, "plan.archive", "plan", plan.id, ip, code=plan.code)
        db.session.commit()
        return "archived"
    audit.record(actor, "plan.delete", "plan", plan.id, ip, code=plan.code)
    db.session.delete(plan)
    db.session.commit()
    return "deleted"


def restore(plan: Plan, actor: User, ip: str | None) -> None:
    plan.status = PlanStatus.ACTIVE
    audit.record(actor, "plan.restore", "plan", plan.id, ip, code=plan.code)
    db.session.commit()


# -- subscriptions (the payment providers drive these) -------------------------------------------


def start(
    client: User,
    plan: Plan,
    params: dict[str, int],
    cycle: Cycle,
    *,
    provider: str = "",
    provider_ref: str | None = None,
) -> Subscription:
    """A subscription as quoted now, waiting for its first payment (the caller commits)."""
    if plan.on_request or plan.status != PlanStatus.ACTIVE:
        raise ValidationFailed(_("This plan cannot be bought online."))
    q = quote(plan, params, cycle)
    sub = Subscription(
        client_id=client.id,
        plan_id=plan.id,
        cycle=cycle,
        params=dict(params),
        price_cents=q.net_cents,
        success_fee_bp=plan.success_fee_bp,
        provider=provider,
        provider_ref=provider_ref,
    )
    db.session.add(sub)
    db.session.flush()
    return sub


def activate(sub: Subscription, period_end: datetime | None, at: datetime | None = None) -> None:
    """The first payment is confirmed: the plan and its rate count from now; any earlier live
    subscription of the client ends (a change of plan)."""
    at = at or utcnow()
    for old in db.session.scalars(
        db.select(Subscription).where(
            Subscription.client_id == sub.client_id,
            Subscription.id != sub.id,
            Subscription.status.in_(LIVE),
        )
    ):
        old.status, old.canceled_at = SubscriptionStatus.CANCELED, at
    sub.status = SubscriptionStatus.ACTIVE
    sub.started_at = sub.started_at or at
    sub.current_period_end = period_end


__all__ = [
    "FREE_PLAN",
    "PARAMETERS",
    "activate",
    "archive",
    "by_code",
    "create",
    "get",
    "install_defaults",
    "listing",
    "offered",
    "plan_code_of",
    "pricing",
    "quote",
    "quotes",
    "restore",
    "start",
    "subscriber_count",
    "success_fee_bp",
    "update",
]
