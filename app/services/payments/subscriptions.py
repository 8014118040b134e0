"""Plan subscriptions paid through Stripe (A9): checkout, what the webhooks say, dunning, cancel.

Our subscription row is written before Stripe is asked (so a webhook never finds nothing), and
stays `incomplete` until Stripe's `invoice.payment_succeeded` says the first payment went
through: the webhook, not the checkout's answer, is what makes a client Pro."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from flask import current_app, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from stdnum import iban as iban_number

from app.core import audit, metrics
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    Cycle,
    EventStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
    Plan,
    Priority,
    ProviderCustomer,
    ProviderEvent,
    Subscription,
    SubscriptionStatus,
    User,
    utcnow,
)
from app.services import dossiers, notifications, plans
from app.services.notifications import emails
from app.services.payments import stripe_gateway as gateway
from app.services.payments.events import NotYet

CURRENCY = "eur"


def gross_cents(sub: Subscription) -> int:
    """What a period of `sub` is charged, VAT included (the pricing function's VAT)."""
    return sub.price_cents + plans.pricing.vat_of(sub.price_cents)


def live_of(client_id: int) -> Subscription | None:
    return db.session.scalar(
        db.select(Subscription)
        .where(Subscription.client_id == client_id, Subscription.status.in_(plans.LIVE))
        .order_by(Subscription.id.desc())
        .limit(1)
    )


def check_iban(text: str) -> str:
    """The IBAN in its compact form, or ValidationFailed with a message a person can act on."""
    compact = iban_number.compact(text or "")
    if not compact:
        raise ValidationFailed(_("Enter your IBAN."), iban=_("Enter your IBAN."))
    if not iban_number.is_valid(compact):
        msg = _("This IBAN is not valid: check the letters and digits (FR76 …).")
        raise ValidationFailed(msg, iban=msg)
    return compact


def customer_ref(client: User) -> str:
    """The client's customer at Stripe, made the first time it is needed."""
    ref = db.session.scalar(
        db.select(ProviderCustomer.customer_ref).where(
            ProviderCustomer.user_id == client.id, ProviderCustomer.provider == gateway.PROVIDER
        )
    )
    if ref:
        return ref
    profile = client.client_profile
    name = (profile.company_name if profile else "") or client.full_name
    ref = gateway.create_customer(client.email, name, client.id)
    db.session.add(ProviderCustomer(user_id=client.id, provider=gateway.PROVIDER, customer_ref=ref))
    db.session.commit()
    return ref


def card_setup(client: User) -> str:
    """The secret Stripe.js confirms a card against, for `client`'s checkout."""
    if not gateway.configured():
        raise ValidationFailed(_("Online payment is not configured. You can pay by bank transfer."))
    return gateway.card_setup(customer_ref(client))


def checkout(
    client: User,
    plan: Plan,
    params: dict[str, int],
    cycle: Cycle,
    *,
    method_ref: str = "",
    iban: str = "",
    ip: str | None = None,
) -> Subscription:
    """Subscribe `client` to `plan` with a card method made by Stripe.js in the browser
    (`method_ref`) or a SEPA mandate from an IBAN. Raises ValidationFailed for bad input,
    gateway.ProviderDown / ProviderRefused when Stripe cannot or will not; in both cases no
    subscription of ours is left behind."""
    if not gateway.configured():
        raise ValidationFailed(_("Online payment is not configured. You can pay by bank transfer."))
    if not method_ref and not iban:
        msg = _("Choose how to pay: a card or your IBAN for a SEPA direct debit.")
        raise ValidationFailed(msg, iban=msg)
    compact = check_iban(iban) if iban and not method_ref else ""
    current = live_of(client.id)
    if current is not None and current.plan_id == plan.id:
        raise Conflict(_("You are already on this plan."))
    sub = plans.start(client, plan, params, cycle, provider=gateway.PROVIDER)
    db.session.commit()  # the row a fast webhook will look for
    try:
        customer = customer_ref(client)
        if compact:
            method_ref = gateway.sepa_method(compact, client.full_name, client.email)
        gateway.set_default_method(customer, method_ref)
        stripe_plan = gateway.plan_ref(plan.code, str(cycle), gross_cents(sub), plan.name)
        remote = gateway.create_subscription(
            customer, stripe_plan, {"ft_subscription": str(sub.id)}
        )
        if remote.get("status") == "incomplete" and method_ref and not compact:
            # a card is answered at once: still incomplete means the bank said no (or asks
            # for an authentication this off-session charge cannot give); nothing stays open
            gateway.cancel_subscription(remote["id"], at_period_end=False)
            raise gateway.ProviderRefused(_("your bank declined the card."))
    except (gateway.ProviderDown, gateway.ProviderRefused):
        db.session.delete(db.session.get(Subscription, sub.id))
        db.session.commit()
        raise
    sub.provider_ref = remote["id"]
    audit.record(client, "subscription.checkout", "subscription", sub.id, ip, plan=plan.code)
    db.session.commit()
    return sub


def change_plan(
    client: User, plan: Plan, params: dict[str, int], cycle: Cycle, ip: str | None = None
) -> Subscription:
    """Move a paying client to another plan (or other numbers) on the same Stripe subscription
    and payment method: Stripe prorates what is left of the period (A9); the new plan and its
    success-fee rate count from now."""
    current = live_of(client.id)
    if current is None or not current.provider_ref:
        raise NotFound()
    if current.status != SubscriptionStatus.ACTIVE:
        raise Conflict(_("Your last payment failed: settle it before changing plan."))
    new = plans.start(client, plan, params, cycle, provider=gateway.PROVIDER)
    if (new.plan_id, new.cycle, new.price_cents) == (
        current.plan_id,
        current.cycle,
        current.price_cents,
    ):
        db.session.rollback()
        raise Conflict(_("You are already on this plan."))
    stripe_plan = gateway.plan_ref(plan.code, str(cycle), gross_cents(new), plan.name)
    remote = gateway.change_plan(current.provider_ref, stripe_plan)  # raises: we rolled nothing
    ref, current.provider_ref = current.provider_ref, None
    db.session.flush()  # the reference is unique: the old row lets go of it first
    new.provider_ref = ref
    period_end = remote.get("current_period_end")
    plans.activate(
        new, datetime.fromtimestamp(period_end, UTC) if period_end else current.current_period_end
    )
    audit.record(client, "subscription.change", "subscription", new.id, ip, plan=plan.code)
    _tell(
        client,
        "plan_changed",
        _l("You are now on %(plan)s", plan=plan.name),
        f"subscription:{new.id}#start",
        plan=plan.name,
        starter=False,
    )
    db.session.commit()
    return new


def change_method(
    client: User, *, method_ref: str = "", iban: str = "", ip: str | None = None
) -> None:
    """The card or account renewals are charged to from now (and the next dunning try, if a
    renewal failed): made by Stripe.js or from an IBAN, then the customer's default."""
    sub = live_of(client.id)
    if sub is None or not sub.provider_ref:
        raise NotFound()
    if not gateway.configured():
        raise ValidationFailed(_("Online payment is not configured. You can pay by bank transfer."))
    if not method_ref and not iban:
        msg = _("Choose how to pay: a card or your IBAN for a SEPA direct debit.")
        raise ValidationFailed(msg, iban=msg)
    compact = check_iban(iban) if iban and not method_ref else ""
    customer = customer_ref(client)
    if compact:
        method_ref = gateway.sepa_method(compact, client.full_name, client.email)
    gateway.set_default_method(customer, method_ref)
    audit.record(client, "subscription.method", "subscription", sub.id, ip)
    db.session.commit()


def cancel(client: User, ip: str | None = None) -> Subscription:
    """The client stops their plan: it runs to the end of the paid period (Stripe ends it then
    and tells us with `customer.subscription.deleted`)."""
    sub = live_of(client.id)
    if sub is None:
        raise NotFound()
    if sub.provider_ref and gateway.configured():
        gateway.cancel_subscription(sub.provider_ref, at_period_end=True)
    sub.cancel_at_period_end = True
    audit.record(client, "subscription.cancel", "subscription", sub.id, ip)
    db.session.commit()
    return sub


# --- what Stripe tells us -----------------------------------------------------------------


def _sub_ref(invoice: dict) -> str | None:
    ref = invoice.get("subscription")
    if not ref:
        parent = invoice.get("parent") or {}
        ref = (parent.get("subscription_details") or {}).get("subscription")
    return ref if isinstance(ref, str) else None


def _subscription_of(invoice: dict) -> Subscription | None:
    """Our subscription a provider invoice is for; None when it is no subscription's invoice
    (a fee invoice's charge); NotYet when it is one we do not know (yet)."""
    ref = _sub_ref(invoice)
    if ref is None:
        return None
    sub = _find(ref)
    if sub is None:
        raise NotYet()
    return sub


def _payment_for(sub: Subscription, invoice: dict, amount_cents: int) -> Payment:
    """Our payment row for a provider invoice: found (a retry of one that failed), or new."""
    payment = db.session.scalar(db.select(Payment).where(Payment.provider_ref == invoice["id"]))
    if payment is None:
        payment = Payment(
            payer_id=sub.client_id,
            kind=PaymentKind.SUBSCRIPTION,
            subscription_id=sub.id,
            provider=gateway.PROVIDER,
            provider_ref=invoice["id"],
            amount_cents=amount_cents,
        )
        db.session.add(payment)
    return payment


def _find(ref: str | None) -> Subscription | None:
    if not ref:
        return None
    return db.session.scalar(db.select(Subscription).where(Subscription.provider_ref == ref))


def _period_end(invoice: dict) -> datetime | None:
    ends = [
        (line.get("period") or {}).get("end")
        for line in ((invoice.get("lines") or {}).get("data") or [])
    ]
    ends = [e for e in ends if isinstance(e, int)] or (
        [invoice["period_end"]] if isinstance(invoice.get("period_end"), int) else []
    )
    return datetime.fromtimestamp(max(ends), UTC) if ends else None


def _amount_problem(invoice: dict, sub: Subscription) -> str | None:
    """Why a paid invoice does not match what we sold, if it does not: another currency, or a
    plan line charging another amount than our quote. Proration lines are Stripe's own
    arithmetic after a change of plan (A9) and are not second-guessed."""
    currency = str(invoice.get("currency", "")).lower()
    if currency != CURRENCY:
        return f"paid in {currency or '?'}, expected {CURRENCY}"
    lines = (invoice.get("lines") or {}).get("data") or []
    plan_lines = [line for line in lines if not line.get("proration")]
    charged = [line.get("amount") for line in plan_lines] or [invoice.get("amount_paid")]
    expected = gross_cents(sub)
    if any(amount != expected for amount in charged):
        return f"charged {charged} {currency}, expected {expected} per period"
    return None


def on_invoice_paid(event: dict, row: ProviderEvent) -> EventStatus:
    invoice = event["data"]["object"]
    sub = _subscription_of(invoice)
    if sub is None:
        return EventStatus.PROCESSED  # not a subscription invoice: the fee invoices' concern
    paid = invoice.get("amount_paid")
    if problem := _amount_problem(invoice, sub):
        row.error = problem
        return EventStatus.REFUSED
    payment = _payment_for(sub, invoice, paid)
    if payment.status == PaymentStatus.SUCCEEDED:
        return EventStatus.PROCESSED
    now = utcnow()
    payment.status, payment.paid_at, payment.failure = PaymentStatus.SUCCEEDED, now, None
    metrics.business("payment")
    payment.currency = CURRENCY.upper()
    payment.period_end = _period_end(invoice)
    payment.number = payment.number or dossiers.next_invoice_number(now.year)
    first = sub.status == SubscriptionStatus.INCOMPLETE
    if first:
        plans.activate(sub, payment.period_end, now)
    else:
        sub.status = SubscriptionStatus.ACTIVE
        sub.current_period_end = payment.period_end or sub.current_period_end
    sub.dunning_attempts, sub.next_retry_at, sub.dunning_ref, sub.dunning_since = (
        0,
        None,
        None,
        None,
    )
    db.session.flush()
    client = db.session.get(User, sub.client_id)
    _tell(
        client,
        "payment_receipt",
        _l("Payment received: %(number)s", number=payment.number),
        f"payment:{payment.id}",
        number=payment.number,
        amount=payment.amount_cents,
        receipt=emails.external_url("billing.receipt", payment_id=payment.id),
        plan=sub.plan.name,
    )
    if first:
        _tell(
            client,
            "plan_changed",
            _l("You are now on %(plan)s", plan=sub.plan.name),
            f"subscription:{sub.id}#start",
            plan=sub.plan.name,
            starter=False,
        )
    return EventStatus.PROCESSED


def on_invoice_failed(event: dict, row: ProviderEvent) -> EventStatus:
    invoice = event["data"]["object"]
    sub = _subscription_of(invoice)
    if sub is None:
        return EventStatus.PROCESSED
    payment = _payment_for(sub, invoice, invoice.get("amount_due") or 0)
    if payment.status == PaymentStatus.SUCCEEDED:
        return EventStatus.PROCESSED  # an older failure arriving after the recovery
    payment.status = PaymentStatus.FAILED
    payment.failure = (
        str((invoice.get("last_finalization_error") or {}).get("message") or "")[:255] or None
    )
    if sub.status in plans.LIVE:  # a renewal failed: dunning starts (or goes on)
        if sub.status == SubscriptionStatus.ACTIVE:
            sub.status, sub.dunning_since, sub.dunning_attempts = (
                SubscriptionStatus.PAST_DUE,
                utcnow(),
                0,
            )
            sub.dunning_ref = invoice["id"]
            sub.next_retry_at = _retry_at(sub)
        step = str(sub.dunning_attempts)
    elif sub.status == SubscriptionStatus.INCOMPLETE:  # the first payment: it ends here
        sub.status, sub.canceled_at = SubscriptionStatus.CANCELED, utcnow()
        step = "first"
    else:
        return EventStatus.PROCESSED  # already ended: nothing more to tell
    _tell(
        db.session.get(User, sub.client_id),
        "payment_failed",
        _l("Your payment for %(plan)s did not go through", plan=sub.plan.name),
        f"payment:{payment.id}#{step}",
        plan=sub.plan.name,
        retry_on=retry_label(sub.next_retry_at) if step != "first" else "",
        priority=Priority.HIGH,
    )
    return EventStatus.PROCESSED


def on_subscription_deleted(event: dict, row: ProviderEvent) -> EventStatus:
    remote = event["data"]["object"]
    sub = _find(remote.get("id"))
    if sub is None:
        raise NotYet()
    if sub.status == SubscriptionStatus.CANCELED:
        return EventStatus.PROCESSED
    was_live = sub.status in plans.LIVE
    sub.status, sub.canceled_at = SubscriptionStatus.CANCELED, utcnow()
    sub.next_retry_at = None
    if was_live and live_of(sub.client_id) is None:
        client = db.session.get(User, sub.client_id)
        _tell(
            client,
            "plan_changed",
            _l("You are now on Starter"),
            f"subscription:{sub.id}#end",
            plan="Starter",
            starter=True,
        )
    return EventStatus.PROCESSED


def on_subscription_updated(event: dict, row: ProviderEvent) -> EventStatus:
    remote = event["data"]["object"]
    sub = _find(remote.get("id"))
    if sub is None:
        raise NotYet()
    sub.cancel_at_period_end = bool(remote.get("cancel_at_period_end"))
    return EventStatus.PROCESSED


HANDLERS = {
    "invoice.payment_succeeded": on_invoice_paid,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_failed": on_invoice_failed,
    "customer.subscription.deleted": on_subscription_deleted,
    "customer.subscription.updated": on_subscription_updated,
}


# --- dunning ------------------------------------------------------------------------------


def _retry_at(sub: Subscription) -> datetime | None:
    days = current_app.config["DUNNING_RETRY_DAYS"]
    if sub.dunning_attempts >= len(days):
        return None
    return sub.dunning_since + timedelta(days=days[sub.dunning_attempts])


def run_dunning(at: datetime | None = None) -> dict[str, int]:
    """Try again every past-due renewal whose retry is due. The try is claimed first (a
    conditional UPDATE on the attempt count), so two sweeps never charge twice. After the
    last try fails, the subscription ends at Stripe and the client is back on Starter."""
    at = at or utcnow()
    counts = {"tried": 0, "recovered": 0, "ended": 0}
    due = db.session.scalars(
        db.select(Subscription.id).where(
            Subscription.status == SubscriptionStatus.PAST_DUE, Subscription.next_retry_at <= at
        )
    ).all()
    for sub_id in due:
        sub = db.session.get(Subscription, sub_id)
        tried = sub.dunning_attempts
        claimed = db.session.execute(
            db.update(Subscription)
            .where(Subscription.id == sub_id, Subscription.dunning_attempts == tried)
            .values(dunning_attempts=tried + 1)
        ).rowcount
        db.session.commit()
        if not claimed:
            continue
        db.session.refresh(sub)
        counts["tried"] += 1
        try:
            result = gateway.pay_invoice(sub.dunning_ref)
            paid = result.get("status") == "paid"
        except gateway.ProviderRefused:
            paid = False
        except gateway.ProviderDown:
            # Stripe is away: this try did not happen; the next sweep makes it
            db.session.execute(
                db.update(Subscription)
                .where(Subscription.id == sub_id)
                .values(dunning_attempts=tried)
            )
            db.session.commit()
            continue
        if paid:
            counts["recovered"] += 1  # the webhook confirms and reactivates
            sub.next_retry_at = None
        else:
            sub.next_retry_at = _retry_at(sub)
            if sub.next_retry_at is None:
                _end_after_dunning(sub)
                counts["ended"] += 1
        db.session.commit()
    return counts


def _end_after_dunning(sub: Subscription) -> None:
    with contextlib.suppress(gateway.ProviderRefused):  # refused: already ended there
        gateway.cancel_subscription(sub.provider_ref, at_period_end=False)
    sub.status, sub.canceled_at = SubscriptionStatus.CANCELED, utcnow()
    client = db.session.get(User, sub.client_id)
    _tell(
        client,
        "plan_changed",
        _l("You are now on Starter"),
        f"subscription:{sub.id}#end",
        plan="Starter",
        starter=True,
        after_dunning=True,
    )


def _tell(client: User, kind: str, title, ref: str, priority=Priority.MEDIUM, **context) -> None:
    """In-app and email, once per (object, step): `ref` names what the news is about."""
    object_ref, _sep, threshold = ref.partition("#")
    notifications.create(
        client,
        kind,
        title,
        link=url_for("billing.index"),
        priority=priority,
        object_ref=object_ref,
        threshold=threshold,
    )
    emails.queue_notification_email(
        client, kind, kind, link=emails.external_url("billing.index"), **context
    )


def retry_label(at: datetime | None) -> str:
    return format_date(at, "long") if at else ""
