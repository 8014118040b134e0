"""Plans a client subscribes to (docs/domain.md A9), on top of the success fee of A5.

Plans are admin-edited rows, never code: what a plan costs is `base_cents` per month plus, per
parameter (sites, employees, vehicles, products watched), each unit above the included count at
its unit price (`prices`); `app/services/plans/pricing.py` is the one function that turns a plan
and a client's parameters into an amount, for the page, the checkout and the invoice alike."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, _enum, utcnow


class PlanStatus(enum.StrEnum):
    ACTIVE = "active"  # offered on the plans page
    ARCHIVED = "archived"  # kept for its subscribers, offered to nobody new


class Cycle(enum.StrEnum):
    MONTH = "month"
    YEAR = "year"


class SubscriptionStatus(enum.StrEnum):
    INCOMPLETE = "incomplete"  # checkout started, first payment not confirmed
    ACTIVE = "active"
    PAST_DUE = "past_due"  # a renewal failed: dunning (A9) is retrying
    CANCELED = "canceled"


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    tagline: Mapped[str] = mapped_column(String(200), default="")
    # what the plan gives, one line each, as the comparison page lists them
    features: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[PlanStatus] = mapped_column(
        _enum(PlanStatus, "plan_status"), default=PlanStatus.ACTIVE
    )
    position: Mapped[int] = mapped_column(default=0)
    # Custom: priced on request (the request form), never bought online
    on_request: Mapped[bool] = mapped_column(default=False)
    base_cents: Mapped[int] = mapped_column(default=0)  # per month, before VAT
    # {"sites": {"included": 1, "unit_cents": 1500}, ...}: a parameter absent costs nothing
    prices: Mapped[dict] = mapped_column(JSON, default=dict)
    # a year paid at once: this share off twelve months (basis points)
    yearly_discount_bp: Mapped[int] = mapped_column(default=0)
    success_fee_bp: Mapped[int]  # the client's fee on amounts obtained (A5), under this plan
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Subscription(Base):
    """A client on a paid plan. Starter needs no row: a client without a live subscription is
    on the free plan. The parameters and the price are kept as bought: an admin's later edit
    of the plan changes what new subscribers pay, not what this one was sold."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="RESTRICT"), index=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        _enum(SubscriptionStatus, "subscription_status"), default=SubscriptionStatus.INCOMPLETE
    )
    cycle: Mapped[Cycle] = mapped_column(_enum(Cycle, "billing_cycle"), default=Cycle.MONTH)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    price_cents: Mapped[int]  # per cycle, before VAT, as quoted when bought
    success_fee_bp: Mapped[int]  # the plan's rate when bought
    started_at: Mapped[datetime | None]  # first payment confirmed: the plan's rate counts from here
    current_period_end: Mapped[datetime | None]
    canceled_at: Mapped[datetime | None]
    provider: Mapped[str] = mapped_column(String(16), default="")
    provider_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    # the client asked to stop: the plan runs to the end of the paid period, then ends
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    # dunning (A9): a failed renewal is retried on a schedule; after the last try the client
    # drops to Starter. `dunning_ref` is the provider's unpaid invoice being retried
    dunning_attempts: Mapped[int] = mapped_column(default=0)
    next_retry_at: Mapped[datetime | None] = mapped_column(index=True)
    dunning_ref: Mapped[str | None] = mapped_column(String(120))
    dunning_since: Mapped[datetime | None]  # the first failure: retries count from it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    plan: Mapped[Plan] = relationship(lazy="joined")
