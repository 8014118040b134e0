"""Stripe's side of the conversation for tests: events signed with Stripe's own scheme (for what
localstripe never sends), and waiting for the webhooks localstripe does send."""

import json
import os
import secrets
import time

import stripe

from app.extensions import db
from app.models import ProviderEvent


def event(type_: str, obj: dict, event_id: str | None = None) -> dict:
    return {
        "id": event_id or "evt_" + secrets.token_hex(8),
        "object": "event",
        "type": type_,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def signed(body: dict | bytes, at: int | None = None, secret: str | None = None):
    """The raw body and its Stripe-Signature header, as Stripe would send them."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    header = stripe.WebhookSignature.generate_signature_header(
        raw.decode(), secret or os.environ["STRIPE_WEBHOOK_SECRET"], timestamp=at
    )
    return raw, header


def deliver(client, body, at=None, secret=None, header=None):
    raw, signature = signed(body, at, secret)
    return client.post(
        "/webhooks/stripe",
        data=raw,
        headers={"Stripe-Signature": header or signature},
        content_type="application/json",
    )


def wait_for_event(app, type_: str, object_ref: str | None = None, count: int = 1, timeout=15):
    """Until localstripe's webhook(s) of `type_` have reached the live server and been stored."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            query = db.select(db.func.count()).where(ProviderEvent.type == type_)
            if object_ref:
                query = query.where(ProviderEvent.object_ref == object_ref)
            n = db.session.scalar(query.select_from(ProviderEvent))
        if n >= count:
            return n
        if time.monotonic() > deadline:
            raise AssertionError(f"no {type_} webhook for {object_ref} after {timeout} s")
        time.sleep(0.2)
