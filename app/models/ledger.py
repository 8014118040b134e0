"""Money after it is received (docs/domain.md A9, A5): what is owed on an invoice, credit notes
for refunds, the referrers' commission ledger and the monthly payout batches.

A commission line is keyed by its source ("invoice:12" when the platform invoice is paid,
"credit:3" when it is refunded), so the event that makes it can be applied twice and still
write one line."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, _enum, utcnow


class InvoiceStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    VOID = "void"  # cancelled by an admin: nothing is owed any more
    UNCOLLECTIBLE = "uncollectible"  # given up on, kept for the accounts


class LineStatus(enum.StrEnum):
    PAYABLE = "payable"  # earned: the platform invoice it comes from is paid
    PAID = "paid"  # in a payout batch marked sent


class BatchStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"


class NumberSequence(Base):
    """Per series and year, the last number given (credit notes AV-…, fee receipts RC-…),
    incremented under a row lock like the invoices' own sequence."""

    __tablename__ = "number_sequences"

    series: Mapped[str] = mapped_column(String(4), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class CreditNote(Base):
    __tablename__ = "credit_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), index=True
    )
    amount_cents: Mapped[int]  # refunded, VAT included
    reason: Mapped[str] = mapped_column(String(255), default="")
    provider_ref: Mapped[str | None] = mapped_column(String(255), unique=True)  # the refund
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommissionLine(Base):
    __tablename__ = "commission_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    referrer_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(String(32), unique=True)
    amount_cents: Mapped[int]  # negative for a refund
    status: Mapped[LineStatus] = mapped_column(
        _enum(LineStatus, "commission_status"), default=LineStatus.PAYABLE, index=True
    )
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PayoutBatch(Base):
    __tablename__ = "payout_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    status: Mapped[BatchStatus] = mapped_column(
        _enum(BatchStatus, "payout_batch_status"), default=BatchStatus.DRAFT
    )
    message_id: Mapped[str] = mapped_column(String(35), unique=True)  # in the pain.001
    xml_key: Mapped[str | None] = mapped_column(String(200))  # the file, made once
    total_cents: Mapped[int] = mapped_column(default=0)
    count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Payout(Base):
    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("payout_batches.id", ondelete="CASCADE"), index=True
    )
    referrer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    amount_cents: Mapped[int]
    iban: Mapped[str] = mapped_column(String(34))  # as it was when the batch was made
    holder: Mapped[str] = mapped_column(String(70))
