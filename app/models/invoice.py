"""Invoices (docs/domain.md §6): one per refunded dossier, numbered FT-YYYY-NNNNN."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class InvoiceSequence(Base):
    """The last number given per year, incremented under a row lock (never a row count)."""

    __tablename__ = "invoice_sequences"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("dossier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="RESTRICT"))
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    # the waterfall, integer cents, from the amount actually obtained
    obtained_cents: Mapped[int]
    client_fee_bp: Mapped[int]
    platform_fee_bp: Mapped[int]
    referrer_share_bp: Mapped[int]
    client_fee_cents: Mapped[int]  # client -> expert
    platform_fee_cents: Mapped[int]  # expert -> platform, before VAT
    vat_cents: Mapped[int]
    total_cents: Mapped[int]  # platform invoice including VAT
    referrer_cents: Mapped[int]  # platform -> referrer (0 without a referrer)
    issued_on: Mapped[date]
    due_on: Mapped[date]
    pdf_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
