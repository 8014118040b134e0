"""Paying the fee invoices of A5 (A9): the client's fee (to the expert, collected by the
platform) and the expert's platform fee. Online through Stripe (a card saved by Stripe.js or a
SEPA debit from an IBAN), or by bank transfer with a structured reference that an admin
reconciles, in one go or in parts. Each payment moves the invoice's party status, goes on the
dossier's timeline, emails a receipt, and a paid platform fee earns the referrer's commission."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from app.core import audit, metrics
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import euros
from app.models import (
    Dossier,
    DossierEvent,
    EventStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
    Priority,
    ProviderEvent,
    User,
    utcnow,
)
from app.realtime import notify
from app.security import can_view_invoice, require
from app.services import notifications
from app.services.notifications import emails
from app.services.payments import commissions, numbers
from app.services.payments import stripe_gateway as gateway
from app.services.payments.events import NotYet
from app.services.payments.subscriptions import check_iban, customer_ref

CLIENT, EXPERT = "client", "expert"
_PARTY_DIGIT = {CLIENT: "1", EXPERT: "2"}
KIND = {CLIENT: PaymentKind.CLIENT_FEE, EXPERT: PaymentKind.PLATFORM_FEE}


def party_of(invoice: Invoice, user: User) -> str:
    """Which side of the invoice `user` pays (a stranger never gets here: NotFound)."""
    if user.id == invoice.client_id:
        return CLIENT
    if user.id == invoice.expert_id:
        return EXPERT
    raise NotFound()


def status_of(invoice: Invoice, party: str) -> InvoiceStatus:
    return invoice.client_status if party == CLIENT else invoice.platform_status


def reference(invoice: Invoice, party: str) -> str:
    """The structured creditor reference (ISO 11649, "RF…") a transfer for this invoice and
    party carries: the invoice number's digits and the party, under mod-97 check digits."""
    body = "".join(ch for ch in invoice.number if ch.isdigit()) + _PARTY_DIGIT[party]
    ref = "RF" + mod_97_10.calc_check_digits(body + "RF") + body
    return iso11649.format(ref)


def find_by_reference(text: str) -> tuple[Invoice, str] | None:
    """The invoice and party a transfer's reference names, if it is one of ours."""
    compact = iso11649.compact(text or "")
    if not iso11649.is_valid(compact):
        return None
    body = compact[4:]
    party = {v: k for k, v in _PARTY_DIGIT.items()}.get(body[-1:])
    digits = body[:-1]
    if party is None or len(digits) != 9:
        return None
    number = f"FT-{digits[:4]}-{digits[4:]}"
    invoice = db.session.scalar(db.select(Invoice).where(Invoice.number == number))
    return (invoice, party) if invoice else None


def bank_details() -> dict:
    config = current_app.config
    return {
        "iban": config["PLATFORM_IBAN"],
        "bic": config["PLATFORM_BIC"],
        "name": "FinancialTracker",
    }


def get_for(invoice_id: int, viewer: User) -> Invoice:
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound()
    require(can_view_invoice(viewer, invoice))
    return invoice


def open_for(user: User, limit: int = 50) -> list[Invoice]:
    """The invoices `user` has a side of, newest first (bounded: a page shows these)."""
    return db.session.scalars(
        db.select(Invoice)
        .where((Invoice.client_id == user.id) | (Invoice.expert_id == user.id))
        .order_by(Invoice.id.desc())
        .limit(limit)
    ).all()


# -- online ----------------------------------------------------------------------------------


def pay_online(
    invoice: Invoice, payer: User, *, method_ref: str = "", iban: str = "", ip: str | None = None
) -> tuple[Payment, str | None]:
    """Charge what `payer` still owes on `invoice`. Our payment row is written (pending) before
    Stripe is asked, so its webhook always finds it; Stripe refusing or being away removes it.
    Returns the payment and, when the card holder must still authenticate, the client secret
    Stripe.js needs for it."""
    party = party_of(invoice, payer)
    if not gateway.configured():
        raise ValidationFailed(_("Online payment is not configured. You can pay by bank transfer."))
    if status_of(invoice, party) != InvoiceStatus.OPEN:
        raise Conflict(_("This invoice is not open for payment any more."))
    due = invoice.due_from(party)
    if due <= 0:
        raise Conflict(_("Nothing is left to pay on this invoice."))
    if not method_ref and not iban:
        msg = _("Choose how to pay: a card or your IBAN for a SEPA direct debit.")
        raise ValidationFailed(msg, iban=msg)
    compact = check_iban(iban) if iban and not method_ref else ""
    payment = Payment(
        payer_id=payer.id,
        kind=KIND[party],
        invoice_id=invoice.id,
        provider=gateway.PROVIDER,
        method="sepa_debit" if compact else "card",
        amount_cents=due,
    )
    db.session.add(payment)
    db.session.commit()
    try:
        customer = customer_ref(payer)
        if compact:
            method_ref = gateway.sepa_method(compact, payer.full_name, payer.email)
            gateway.set_default_method(customer, method_ref)
        intent = gateway.charge(
            customer, method_ref, due, {"ft_payment": str(payment.id), "ft_invoice": invoice.number}
        )
    except (gateway.ProviderDown, gateway.ProviderRefused):
        db.session.delete(db.session.get(Payment, payment.id))
        db.session.commit()
        raise
    payment.provider_ref = intent["id"]
    audit.record(payer, "invoice.pay", "invoice", invoice.id, ip, party=party, cents=due)
    db.session.commit()
    # the bank asks the card holder to authenticate (3-D Secure, SCA): the browser finishes it
    # with Stripe.js; the webhook then confirms as for any other payment
    secret = intent.get("client_secret") if intent.get("status") == "requires_action" else None
    return payment, secret


def _payment_of(event: dict) -> tuple[dict, Payment | None, bool]:
    intent = event["data"]["object"]
    ref = (intent.get("metadata") or {}).get("ft_payment")
    if not ref or not str(ref).isdigit():
        return intent, None, False  # not one of our invoice charges (a subscription's, say)
    return intent, db.session.get(Payment, int(ref)), True


def on_intent_succeeded(event: dict, row: ProviderEvent) -> EventStatus:
    intent, payment, ours = _payment_of(event)
    if not ours:
        return EventStatus.PROCESSED
    if payment is None:
        raise NotYet()
    if payment.status == PaymentStatus.SUCCEEDED:
        return EventStatus.PROCESSED
    currency = str(intent.get("currency", "")).lower()
    if currency != "eur" or intent.get("amount") != payment.amount_cents:
        row.error = (
            f"charged {intent.get('amount')} {currency}, expected {payment.amount_cents} eur"
        )
        return EventStatus.REFUSED
    payment.provider_ref = payment.provider_ref or intent.get("id")
    settle(payment)
    return EventStatus.PROCESSED


def on_intent_failed(event: dict, row: ProviderEvent) -> EventStatus:
    intent, payment, ours = _payment_of(event)
    if not ours:
        return EventStatus.PROCESSED
    if payment is None:
        raise NotYet()
    if payment.status != PaymentStatus.PENDING:
        return EventStatus.PROCESSED
    payment.status = PaymentStatus.FAILED
    payment.failure = str((intent.get("last_payment_error") or {}).get("message") or "")[:255]
    payer = db.session.get(User, payment.payer_id)
    invoice = db.session.get(Invoice, payment.invoice_id)
    notifications.create(
        payer,
        "payment_failed",
        _l("Your payment of invoice %(number)s did not go through", number=invoice.number),
        link=url_for("billing.invoice", invoice_id=invoice.id),
        priority=Priority.HIGH,
        object_ref=f"payment:{payment.id}",
    )
    return EventStatus.PROCESSED


HANDLERS = {
    "payment_intent.succeeded": on_intent_succeeded,
    "payment_intent.payment_failed": on_intent_failed,
}


# -- bank transfer ---------------------------------------------------------------------------


def record_transfer(
    invoice: Invoice,
    party: str,
    amount_cents: int,
    bank_reference: str,
    actor: User,
    ip: str | None = None,
) -> Payment:
    """An admin saw a transfer arrive for this invoice: it counts, in full or in part."""
    if party not in KIND:
        raise ValidationFailed(_("Choose who paid."), party=_("Choose who paid."))
    if status_of(invoice, party) != InvoiceStatus.OPEN:
        raise Conflict(_("This invoice is not open for payment any more."))
    due = invoice.due_from(party)
    if amount_cents <= 0:
        msg = _("Enter the amount received.")
        raise ValidationFailed(msg, amount=msg)
    if amount_cents > due:
        msg = _("This is more than what is left to pay (%(due)s).", due=euros(due / 100))
        raise ValidationFailed(msg, amount=msg)
    payer_id = invoice.client_id if party == CLIENT else invoice.expert_id
    payment = Payment(
        payer_id=payer_id,
        kind=KIND[party],
        invoice_id=invoice.id,
        provider="transfer",
        method="transfer",
        amount_cents=amount_cents,
        failure=None,
    )
    db.session.add(payment)
    db.session.flush()
    settle(payment, note=bank_reference.strip()[:200] or None, actor=actor)
    audit.record(
        actor, "invoice.transfer", "invoice", invoice.id, ip, party=party, cents=amount_cents
    )
    db.session.commit()
    return payment


def set_status(
    invoice: Invoice, party: str, status: InvoiceStatus, actor: User, ip: str | None = None
):
    """An admin voids an invoice side or gives up on collecting it (both kept for the books)."""
    if status not in (InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE) or party not in KIND:
        raise ValidationFailed(_("This change is not possible."))
    if status_of(invoice, party) != InvoiceStatus.OPEN:
        raise Conflict(_("Only an open invoice can change like this."))
    if party == CLIENT:
        invoice.client_status = status
    else:
        invoice.platform_status = status
    audit.record(actor, f"invoice.{status}", "invoice", invoice.id, ip, party=party)
    db.session.commit()


# -- what a confirmed payment does -----------------------------------------------------------


def settle(payment: Payment, note: str | None = None, actor: User | None = None) -> None:
    """A payment is confirmed (caller commits): it is numbered and counted on its invoice; a
    side paid in full is `paid`; the dossier's timeline shows it; the payer gets a receipt;
    a platform fee paid in full earns the referrer's commission."""
    now = utcnow()
    payment.status, payment.paid_at = PaymentStatus.SUCCEEDED, now
    metrics.business("payment")
    payment.number = payment.number or numbers.next_in(numbers.RECEIPT, now.year)
    invoice = db.session.get(Invoice, payment.invoice_id)
    party = CLIENT if payment.kind == PaymentKind.CLIENT_FEE else EXPERT
    credit = payment.invoice_cents or payment.amount_cents  # euros on the invoice
    if party == CLIENT:
        invoice.client_paid_cents += credit
        if invoice.due_from(CLIENT) == 0:
            invoice.client_status = InvoiceStatus.PAID
    else:
        invoice.platform_paid_cents += credit
        if invoice.due_from(EXPERT) == 0:
            invoice.platform_status = InvoiceStatus.PAID
            commissions.earn(invoice)
    db.session.add(
        DossierEvent(
            dossier_id=invoice.dossier_id,
            actor_id=actor.id if actor else payment.payer_id,
            action="fee_paid" if party == CLIENT else "platform_fee_paid",
            note=note,
            data={
                "invoice": invoice.number,
                "payment": payment.number,
                "cents": credit,
                "method": payment.method,
            },
        )
    )
    db.session.flush()
    payer = db.session.get(User, payment.payer_id)
    link = url_for("billing.invoice", invoice_id=invoice.id)
    notifications.create(
        payer,
        "payment_receipt",
        _l("Payment received: %(number)s", number=payment.number),
        link=link,
        object_ref=f"payment:{payment.id}",
    )
    emails.queue_notification_email(
        payer,
        "payment_receipt",
        "payment_receipt",
        link=emails.external_url("billing.invoice", invoice_id=invoice.id),
        receipt=emails.external_url("billing.receipt", payment_id=payment.id),
        invoice_pdf=emails.external_url("dossiers.invoice_pdf", invoice_id=invoice.id),
        number=payment.number,
        amount=payment.amount_cents,
        plan=_l("invoice %(number)s", number=invoice.number),
    )
    dossier = db.session.get(Dossier, invoice.dossier_id)
    for user_id in {dossier.client_id, dossier.expert_id} - {None}:
        notify.to_user(user_id, "dossier:changed", dossier_id=dossier.id)
    notify.to_admins("dossier:changed", dossier_id=dossier.id)
