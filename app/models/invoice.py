"""Invoices (docs/domain.md §6): one per refunded dossier, numbered FT-YYYY-NNNNN."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, _enum, utcnow
from app.models.ledger import InvoiceStatus


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
    # A9: what each party still owes. The client's fee (to the expert, collected by the
    # platform) and the expert's platform fee are paid separately, online or by transfer,
    # possibly in parts.
    client_status: Mapped[InvoiceStatus] = mapped_column(
        _enum(InvoiceStatus, "invoice_client_status"), default=InvoiceStatus.OPEN
    )
    client_paid_cents: Mapped[int] = mapped_column(default=0)
    platform_status: Mapped[InvoiceStatus] = mapped_column(
        _enum(InvoiceStatus, "invoice_platform_status"), default=InvoiceStatus.OPEN
    )
    platform_paid_cents: Mapped[int] = mapped_column(default=0)

    def due_from(self, party: str) -> int:
        """What `party` ("client" or "expert") still owes, VAT included."""
        if party == "client":
            return max(self.client_fee_cents - self.client_paid_cents, 0)
        return max(self.total_cents - self.platform_paid_cents, 0)
