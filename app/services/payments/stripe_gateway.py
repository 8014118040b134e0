"""Stripe, through the official library and nothing else: the only module that talks to it.

Every call returns plain dicts (`to_dict()`), so the rest of the package never depends on the
library's object types. A Stripe failure becomes `ProviderDown` (it did not answer) or
`ProviderRefused` (it answered no, with a reason a person can read); nothing here writes to our
database, so a failure leaves nothing half-written.

Subscriptions use Stripe's plan objects (one per plan, cycle and amount, with an id we choose):
a quote's amount is whatever our pricing function says for the client's parameters, and a plan
object with that exact id is made the first time it is needed."""

from __future__ import annotations

import contextlib

import stripe
from flask import current_app

PROVIDER = "stripe"


class ProviderDown(Exception):
    """The provider did not answer (network, 5xx): nothing was done there."""


class ProviderRefused(Exception):
    """The provider answered no (a declined card, an invalid request)."""


def configured() -> bool:
    return bool(current_app.config["STRIPE_SECRET_KEY"])


def publishable_key() -> str:
    return current_app.config["STRIPE_PUBLISHABLE_KEY"] if configured() else ""


def _client() -> stripe.StripeClient:
    ext = current_app.extensions
    client = ext.get("stripe_client")
    if client is None:
        client = stripe.StripeClient(
            current_app.config["STRIPE_SECRET_KEY"],
            base_addresses={"api": current_app.config["STRIPE_API_BASE"]},
            max_network_retries=1,
        )
        ext["stripe_client"] = client
    return client


def _call(fn, *args, **kwargs) -> dict:
    try:
        return fn(*args, **kwargs).to_dict()
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise ProviderDown(str(exc)) from exc
    except stripe.CardError as exc:
        raise ProviderRefused(exc.user_message or str(exc)) from exc
    except stripe.StripeError as exc:
        if (exc.http_status or 500) >= 500:
            raise ProviderDown(str(exc)) from exc
        raise ProviderRefused(exc.user_message or str(exc)) from exc


def create_customer(email: str, name: str, user_id: int) -> str:
    c = _client().v1.customers
    return _call(
        c.create, params={"email": email, "name": name, "metadata": {"user_id": str(user_id)}}
    )["id"]


def set_default_method(customer_ref: str, method_ref: str) -> dict:
    """Attach a payment method the browser made at Stripe (its card never reaches us) and make
    it the one renewals charge."""
    v1 = _client().v1
    method = _call(v1.payment_methods.attach, method_ref, params={"customer": customer_ref})
    _call(
        v1.customers.update,
        customer_ref,
        params={"invoice_settings": {"default_payment_method": method_ref}},
    )
    return method


def card_setup(customer_ref: str) -> str:
    """The client secret Stripe.js needs to save a card for renewals (a SetupIntent): the card
    number goes from the browser to Stripe, never through us."""
    return _call(
        _client().v1.setup_intents.create,
        params={"customer": customer_ref, "payment_method_types": ["card"], "usage": "off_session"},
    )["client_secret"]


def sepa_method(iban: str, name: str, email: str) -> str:
    """A SEPA Direct Debit method from an IBAN typed on our form (already check-digit
    validated): the one way to subscribe with JavaScript off."""
    return _call(
        _client().v1.payment_methods.create,
        params={
            "type": "sepa_debit",
            "sepa_debit": {"iban": iban},
            "billing_details": {"name": name, "email": email},
        },
    )["id"]


def plan_ref(code: str, cycle: str, amount_cents: int, name: str) -> str:
    """The Stripe plan charging `amount_cents` (VAT included) every `cycle`; made if missing."""
    ref = f"ft_{code}_{cycle}_{amount_cents}"
    v1 = _client().v1
    with contextlib.suppress(ProviderRefused):  # refused: not made yet
        return _call(v1.plans.retrieve, ref)["id"]
    product = _call(v1.products.create, params={"name": f"FinancialTracker {name}"})
    try:
        return _call(
            v1.plans.create,
            params={
                "id": ref,
                "amount": amount_cents,
                "currency": "eur",
                "interval": cycle,
                "product": product["id"],
            },
        )["id"]
    except ProviderRefused:
        # two checkouts racing for the same new plan: the loser finds the winner's (409)
        return _call(v1.plans.retrieve, ref)["id"]


def create_subscription(customer_ref: str, plan: str, metadata: dict) -> dict:
    return _call(
        _client().v1.subscriptions.create,
        params={
            "customer": customer_ref,
            "items": [{"plan": plan}],
            "metadata": metadata,
            "expand": ["latest_invoice"],
        },
    )


def change_plan(subscription_ref: str, plan: str) -> dict:
    """Stripe computes the proration (A9); we only say which plan from now."""
    v1 = _client().v1
    sub = _call(v1.subscriptions.retrieve, subscription_ref)
    item = sub["items"]["data"][0]["id"]
    return _call(
        v1.subscriptions.update,
        subscription_ref,
        params={"items": [{"id": item, "plan": plan}], "prorate": True},
    )


def cancel_subscription(subscription_ref: str, at_period_end: bool) -> dict:
    v1 = _client().v1
    if at_period_end:
        return _call(
            v1.subscriptions.update, subscription_ref, params={"cancel_at_period_end": True}
        )
    return _call(v1.subscriptions.cancel, subscription_ref)


def pay_invoice(invoice_ref: str) -> dict:
    """Charge an unpaid provider invoice again (a dunning try)."""
    return _call(_client().v1.invoices.pay, invoice_ref)


def charge(customer_ref: str, method_ref: str, amount_cents: int, metadata: dict) -> dict:
    """Charge a saved method once (an invoice): confirmed at once; a card answers now, a SEPA
    debit says `processing` and its webhook comes when the bank has paid."""
    return _call(
        _client().v1.payment_intents.create,
        params={
            "amount": amount_cents,
            "currency": "eur",
            "customer": customer_ref,
            "payment_method": method_ref,
            "confirm": True,
            "metadata": metadata,
        },
    )


def refund(payment_ref: str, amount_cents: int) -> dict:
    """Give back part or all of a payment: a payment intent, or the one behind a paid
    subscription invoice."""
    v1 = _client().v1
    intent = payment_ref
    if payment_ref.startswith("in_"):
        intent = _call(v1.invoices.retrieve, payment_ref).get("payment_intent")
        if not intent:
            raise ProviderRefused("this invoice has no payment to refund")
    return _call(v1.refunds.create, params={"payment_intent": intent, "amount": amount_cents})


def verify(raw: bytes, signature: str | None) -> dict:
    """The event a webhook carries, if Stripe signed this very body with our secret within the
    tolerance; raises ValueError otherwise (forged, altered or stale)."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret or not signature:
        raise ValueError("unsigned")
    try:
        event = stripe.Webhook.construct_event(
            raw, signature, secret, tolerance=current_app.config["STRIPE_WEBHOOK_TOLERANCE"]
        )
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise ValueError(str(exc)) from exc
    return event.to_dict()


def signed_at(signature: str) -> int:
    """The timestamp Stripe signed the delivery at (verified by `verify` first)."""
    for part in signature.split(","):
        key, _, value = part.partition("=")
        if key.strip() == "t" and value.strip().isdigit():
            return int(value)
    return 0
