"""Money moving (docs/domain.md A9): what a payment provider told us, and the payments it made.

A provider's word is an *event*, stored raw before anything else happens (its signature already
checked), and processed once by a worker: the unique (provider, event id) pair is what makes a
second delivery of the same event a no-op, even when two arrive at the same instant. A *payment*
is money received (or refused) for a subscription period or an invoice; its provider reference
is unique for the same reason."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, _enum, utcnow


class EventStatus(enum.StrEnum):
    RECEIVED = "received"  # stored, waiting for the worker
    PROCESSED = "processed"  # applied (or nothing to apply: an event type we do not use)
    UNMATCHED = "unmatched"  # about an object we do not know: kept, flagged to an admin
    FAILED = "failed"  # applying it raised: kept with the error, retried by the job
    REFUSED = "refused"  # an amount or currency that does not match ours: kept, alerted


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # asked for (a SEPA debit takes days), not confirmed
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"  # wholly; a partial refund keeps `succeeded` and sets refunded_cents


class PaymentKind(enum.StrEnum):
    SUBSCRIPTION = "subscription"  # a plan's period
    CLIENT_FEE = "client_fee"  # a client's fee invoice (A5)
    PLATFORM_FEE = "platform_fee"  # an expert's platform-fee invoice (A5)


class ProviderEvent(Base):
    __tablename__ = "provider_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(80))
    payload: Mapped[str] = mapped_column(Text)  # the body exactly as received
    status: Mapped[EventStatus] = mapped_column(
        _enum(EventStatus, "provider_event_status"), default=EventStatus.RECEIVED, index=True
    )
    object_ref: Mapped[str | None] = mapped_column(String(255))  # the provider's object id
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    # the newest delivery's signature time: a delivery signed no later than one already taken
    # is a replay of it (the provider's own retries are signed anew)
    signed_at: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class ProviderCustomer(Base):
    """Who a user is at a provider (a Stripe customer id), made once, on their first payment."""

    __tablename__ = "provider_customers"
    __table_args__ = (UniqueConstraint("user_id", "provider"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    provider: Mapped[str] = mapped_column(String(16))
    customer_ref: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[PaymentKind] = mapped_column(_enum(PaymentKind, "payment_kind"))
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="RESTRICT"), index=True
    )
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), index=True
    )
    provider: Mapped[str] = mapped_column(String(16))  # stripe, cmi, transfer
    # the provider's invoice or payment id: one payment row per provider object
    provider_ref: Mapped[str | None] = mapped_column(String(255), unique=True)
    method: Mapped[str] = mapped_column(String(24), default="")  # card, sepa_debit, transfer
    status: Mapped[PaymentStatus] = mapped_column(
        _enum(PaymentStatus, "payment_status"), default=PaymentStatus.PENDING
    )
    amount_cents: Mapped[int]  # what was charged, VAT included, in `currency`
    # what it pays of its invoice, in euros, when charged in another currency (CMI: dirhams)
    invoice_cents: Mapped[int | None]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    refunded_cents: Mapped[int] = mapped_column(default=0)
    failure: Mapped[str | None] = mapped_column(String(255))  # the provider's reason, as told
    period_end: Mapped[datetime | None]  # for a subscription payment: the period it pays up to
    # a subscription payment is an invoice of ours: FT-YYYY-NNNNN from the invoices' sequence
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]
