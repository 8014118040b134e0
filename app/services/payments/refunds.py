"""Refunds by an admin (A9): money given back through the provider that took it (or noted as
sent back by transfer), a credit note with its own number sequence, and the referrer's share of
a refunded platform fee taken back."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.errors import Conflict, ValidationFailed
from app.extensions import db
from app.i18n import euros
from app.models import (
    CreditNote,
    DossierEvent,
    Invoice,
    Payment,
    PaymentKind,
    PaymentStatus,
    User,
    utcnow,
)
from app.services import notifications
from app.services.payments import commissions, numbers
from app.services.payments import stripe_gateway as gateway


def refundable(payment: Payment) -> int:
    if payment.status != PaymentStatus.SUCCEEDED:
        return 0
    return payment.amount_cents - payment.refunded_cents


def refund(
    payment: Payment, amount_cents: int, reason: str, actor: User, ip: str | None = None
) -> CreditNote:
    """Give back `amount_cents` of `payment`. The amount is claimed on our row first (a
    conditional UPDATE), so two admins clicking at once cannot refund twice; if the provider
    then refuses, the claim is undone and nothing else was written."""
    left = refundable(payment)
    if left <= 0:
        raise Conflict(_("Nothing is left to refund on this payment."))
    if amount_cents <= 0 or amount_cents > left:
        msg = _("Enter an amount between 0,01 € and %(left)s.", left=euros(left / 100))
        raise ValidationFailed(msg, amount=msg)
    if not (reason or "").strip():
        msg = _("Say why this payment is refunded.")
        raise ValidationFailed(msg, reason=msg)
    before = payment.refunded_cents
    claimed = db.session.execute(
        db.update(Payment)
        .where(Payment.id == payment.id, Payment.refunded_cents == before)
        .values(refunded_cents=before + amount_cents)
    ).rowcount
    db.session.commit()
    if not claimed:
        raise Conflict(_("This payment changed meanwhile; reload the page."))
    provider_ref = None
    if payment.provider == gateway.PROVIDER:
        try:
            provider_ref = gateway.refund(payment.provider_ref, amount_cents)["id"]
        except (gateway.ProviderDown, gateway.ProviderRefused):
            db.session.execute(
                db.update(Payment).where(Payment.id == payment.id).values(refunded_cents=before)
            )
            db.session.commit()
            raise
    db.session.refresh(payment)
    if payment.refunded_cents >= payment.amount_cents:
        payment.status = PaymentStatus.REFUNDED
    now = utcnow()
    note = CreditNote(
        number=numbers.next_in(numbers.CREDIT_NOTE, now.year),
        payment_id=payment.id,
        invoice_id=payment.invoice_id,
        amount_cents=amount_cents,
        reason=reason.strip()[:255],
        provider_ref=provider_ref,
        created_by_id=actor.id,
    )
    db.session.add(note)
    db.session.flush()
    if payment.invoice_id is not None:
        invoice = db.session.get(Invoice, payment.invoice_id)
        if payment.kind == PaymentKind.PLATFORM_FEE:
            commissions.reverse(invoice, note.id, amount_cents)
        db.session.add(
            DossierEvent(
                dossier_id=invoice.dossier_id,
                actor_id=actor.id,
                action="payment_refunded",
                note=note.reason,
                data={"credit_note": note.number, "payment": payment.number, "cents": amount_cents},
            )
        )
    payer = db.session.get(User, payment.payer_id)
    notifications.create(
        payer,
        "payment_refunded",
        _l("A refund is on its way: credit note %(number)s", number=note.number),
        link=url_for("billing.index"),
        object_ref=f"credit_note:{note.id}",
    )
    audit.record(actor, "payment.refund", "payment", payment.id, ip, cents=amount_cents)
    db.session.commit()
    return note
