"""What admins read of the money: recent payments, events that need a look, invoices found by
a transfer's reference."""

from __future__ import annotations

from app.core.errors import NotFound
from app.extensions import db
from app.models import EventStatus, Invoice, Payment, ProviderEvent
from app.services.payments import fees

PAGE = 50


def payments(q: str = "", limit: int = PAGE) -> list[Payment]:
    query = db.select(Payment).order_by(Payment.id.desc()).limit(limit)
    q = (q or "").strip()
    if q:
        invoice_ids = db.select(Invoice.id).where(Invoice.number == q.upper())
        query = query.where(
            (Payment.number == q.upper())
            | (Payment.provider_ref == q)
            | Payment.invoice_id.in_(invoice_ids)
        )
    return db.session.scalars(query).all()


def flagged_events(limit: int = 20) -> list[ProviderEvent]:
    return db.session.scalars(
        db.select(ProviderEvent)
        .where(
            ProviderEvent.status.in_(
                (EventStatus.UNMATCHED, EventStatus.REFUSED, EventStatus.FAILED)
            )
        )
        .order_by(ProviderEvent.id.desc())
        .limit(limit)
    ).all()


def invoice_for(text: str, party: str | None) -> tuple[Invoice, str]:
    """The invoice (and paying side) a transfer names: its RF reference, or its FT number
    with the side chosen by the admin."""
    found = fees.find_by_reference(text)
    if found:
        return found
    invoice = db.session.scalar(
        db.select(Invoice).where(Invoice.number == (text or "").strip().upper())
    )
    if invoice is None:
        raise NotFound()
    return invoice, party or ""


def payment(payment_id: int) -> Payment:
    found = db.session.get(Payment, payment_id)
    if found is None:
        raise NotFound()
    return found
