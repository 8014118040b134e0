"""What a payer sees of their money: the billing page's figures, receipts and their PDFs."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale

from app.core.errors import NotFound
from app.extensions import db
from app.models import Invoice, Payment, Subscription, SubscriptionStatus, User, utcnow
from app.security import can_view_payment, require
from app.services import plans
from app.services.payments import stripe_gateway as gateway
from app.services.payments import subscriptions

HISTORY_LIMIT = 20  # a page of the history; older ones page by keyset (`before`)
# a checkout whose first payment has not been confirmed yet is shown as "being confirmed"
# for this long; after that it is a failed attempt and the page stops mentioning it
PENDING_FOR = timedelta(hours=1)


def overview(user: User, before: int | None = None) -> dict:
    """The billing page of `user`: the live plan, a checkout still being confirmed, the last
    payments. Three indexed queries, whatever the size of the history."""
    live = subscriptions.live_of(user.id)
    pending = db.session.scalar(
        db.select(Subscription)
        .where(
            Subscription.client_id == user.id,
            Subscription.status == SubscriptionStatus.INCOMPLETE,
            Subscription.created_at >= utcnow() - PENDING_FOR,
        )
        .order_by(Subscription.id.desc())
        .limit(1)
    )
    query = db.select(Payment).where(Payment.payer_id == user.id)
    if before:
        query = query.where(Payment.id < before)
    payments = db.session.scalars(query.order_by(Payment.id.desc()).limit(HISTORY_LIMIT + 1)).all()
    older = payments[HISTORY_LIMIT - 1].id if len(payments) > HISTORY_LIMIT else None
    return {
        "current": live,
        "current_gross": subscriptions.gross_cents(live) if live else 0,
        "pending": pending,
        "payments": payments[:HISTORY_LIMIT],
        "older": older,  # the `before` of the next page, if there is one
        "online": gateway.configured(),
    }


def payments_of(invoice, viewer: User) -> list[Payment]:
    """The payments `viewer` made on `invoice` (an invoice has a handful)."""
    return db.session.scalars(
        db.select(Payment)
        .where(Payment.invoice_id == invoice.id, Payment.payer_id == viewer.id)
        .order_by(Payment.id.desc())
    ).all()


def payment_for(payment_id: int, viewer: User) -> Payment:
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise NotFound()
    require(can_view_payment(viewer, payment))
    return payment


def receipt_pdf(payment: Payment) -> bytes:
    """The receipt of a succeeded payment, in French like every accounting document."""
    if payment.number is None:
        raise NotFound()  # nothing was paid: there is nothing to acknowledge
    from weasyprint import HTML  # heavy: only a download pays for it

    payer = db.session.get(User, payment.payer_id)
    sub = db.session.get(Subscription, payment.subscription_id) if payment.subscription_id else None
    invoice = db.session.get(Invoice, payment.invoice_id) if payment.invoice_id else None
    net = _net_of(payment, sub)
    with force_locale("fr"):
        html = render_template(
            "documents/receipt.html",
            payment=payment,
            payer=payer,
            subscription=sub,
            invoice=invoice,
            net_cents=net,
            vat_cents=payment.amount_cents - net,
        )
    return HTML(string=html, base_url=str(current_app.root_path)).write_pdf()


def _net_of(payment: Payment, sub: Subscription | None) -> int:
    """The amount before VAT: as quoted when it is the subscription's price, else taken back
    out of the VAT-included amount at A5's rate."""
    if sub is not None and payment.amount_cents == subscriptions.gross_cents(sub):
        return sub.price_cents
    bp = plans.pricing.VAT_BP
    return (2 * payment.amount_cents * 10_000 + (10_000 + bp)) // (2 * (10_000 + bp))
