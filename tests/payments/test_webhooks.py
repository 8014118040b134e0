"""The Stripe webhook endpoint (A9): signature on the raw body, stale and replayed deliveries
refused, each event stored raw and applied once, unknown objects flagged, wrong amounts refused.
Payloads are signed with Stripe's own scheme and the suite's secret, as Stripe signs them."""

import threading
import time
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import (
    Cycle,
    Email,
    EventStatus,
    Notification,
    Payment,
    PaymentStatus,
    ProviderEvent,
    Role,
    Subscription,
    SubscriptionStatus,
    utcnow,
)
from app.services import plans
from app.services.payments import events, jobs
from tests.factories import make_user
from tests.payments.helpers import deliver, event, signed


def _pending_subscription(app, ref="sub_test_1"):
    """A client's Pro checkout waiting for its first payment, as `checkout` leaves it."""
    client_id = make_user(app, Role.CLIENT)
    with app.app_context():
        plan = plans.by_code("pro")
        sub = Subscription(
            client_id=client_id,
            plan_id=plan.id,
            cycle=Cycle.MONTH,
            params={},
            price_cents=4900,
            success_fee_bp=plan.success_fee_bp,
            provider="stripe",
            provider_ref=ref,
        )
        db.session.add(sub)
        db.session.commit()
        return client_id, sub.id


def _paid_invoice(sub_ref="sub_test_1", amount=5880, currency="eur", invoice_id="in_test_1"):
    return {
        "id": invoice_id,
        "object": "invoice",
        "subscription": sub_ref,
        "currency": currency,
        "amount_paid": amount,
        "status": "paid",
        "lines": {"data": [{"amount": amount, "proration": False, "period": {"end": 1900000000}}]},
    }


def _rows(app):
    with app.app_context():
        return db.session.scalars(db.select(ProviderEvent)).all()


@pytest.mark.parametrize(
    "case",
    ["forged", "stale", "altered", "unsigned"],
)
def test_a_delivery_stripe_did_not_sign_now_is_refused_and_changes_nothing(app, client, case):
    body = event("invoice.payment_succeeded", _paid_invoice())
    if case == "forged":
        resp = deliver(client, body, secret="whsec_not_ours")
    elif case == "stale":
        resp = deliver(client, body, at=int(time.time()) - 301)
    elif case == "altered":
        _raw, header = signed(body)
        body["data"]["object"]["amount_paid"] = 1
        resp = deliver(client, body, header=header)
    else:
        resp = client.post("/webhooks/stripe", data=b"{}", content_type="application/json")
    assert resp.status_code == 400
    assert _rows(app) == []


def test_an_event_is_stored_raw_applied_once_and_a_replay_refused(app, client, run_jobs, smtp):
    client_id, sub_id = _pending_subscription(app)
    body = event("invoice.payment_succeeded", _paid_invoice())
    raw, header = signed(body)
    resp = client.post(
        "/webhooks/stripe", data=raw, headers={"Stripe-Signature": header}, content_type="x"
    )
    assert resp.status_code == 200 and resp.json == {"received": "queued"}
    [row] = _rows(app)
    assert row.payload.encode() == raw and row.status == EventStatus.RECEIVED

    # the very same delivery again (same signature): a replay
    again = client.post(
        "/webhooks/stripe", data=raw, headers={"Stripe-Signature": header}, content_type="x"
    )
    assert again.status_code == 400
    # Stripe's own retry is signed anew: accepted, not applied twice
    later = deliver(client, body, at=int(time.time()) + 1)
    assert later.status_code == 200 and later.json == {"received": "duplicate"}
    assert len(_rows(app)) == 1

    run_jobs()
    with app.app_context():
        assert jobs.process_event(row.id) == "skipped"  # a second worker handed it: nothing
        sub = db.session.get(Subscription, sub_id)
        assert sub.status == SubscriptionStatus.ACTIVE and sub.started_at is not None
        [payment] = db.session.scalars(db.select(Payment)).all()
        assert payment.status == PaymentStatus.SUCCEEDED and payment.amount_cents == 5880
        assert payment.number and payment.payer_id == client_id
        assert db.session.get(ProviderEvent, row.id).status == EventStatus.PROCESSED
        assert plans.plan_code_of(client_id) == "pro"
        sent = sorted(e.template for e in db.session.scalars(db.select(Email)))
    assert sent == ["payment_receipt", "plan_changed"]
    run_jobs()
    assert len(smtp.messages) == 2


def test_an_event_about_an_unknown_subscription_is_kept_and_flagged_to_admins(app, client):
    admin_id = make_user(app, Role.ADMIN)
    resp = deliver(client, event("invoice.payment_succeeded", _paid_invoice("sub_nobody")))
    assert resp.status_code == 200
    [row] = _rows(app)
    with app.app_context():
        # the object may still be being committed by a checkout: tried again, not flagged yet
        with pytest.raises(events.NotYet):
            jobs.process_event(row.id)
        assert db.session.get(ProviderEvent, row.id).status == EventStatus.FAILED
        db.session.execute(
            db.update(ProviderEvent).values(received_at=utcnow() - timedelta(minutes=2))
        )
        db.session.commit()
        assert jobs.process_event(row.id) == "unmatched"
        flagged = db.session.scalars(
            db.select(Notification).where(Notification.user_id == admin_id)
        ).all()
        assert [n.type for n in flagged] == ["payment_event_flagged"]


@pytest.mark.parametrize("amount, currency", [(100, "eur"), (5880, "usd")])
def test_a_payment_that_does_not_match_the_quote_is_refused_and_alerted(
    app, client, amount, currency
):
    admin_id = make_user(app, Role.ADMIN)
    _client_id, sub_id = _pending_subscription(app)
    deliver(
        client, event("invoice.payment_succeeded", _paid_invoice(amount=amount, currency=currency))
    )
    [row] = _rows(app)
    with app.app_context():
        assert jobs.process_event(row.id) == "refused"
        assert db.session.get(Subscription, sub_id).status == SubscriptionStatus.INCOMPLETE
        assert db.session.scalar(db.select(db.func.count(Payment.id))) == 0
        assert (
            db.session.scalar(
                db.select(db.func.count(Notification.id)).where(Notification.user_id == admin_id)
            )
            == 1
        )


def test_the_same_event_handed_to_two_workers_at_once_is_applied_once(app, client):
    _client_id, sub_id = _pending_subscription(app)
    deliver(client, event("invoice.payment_succeeded", _paid_invoice()))
    [row] = _rows(app)
    outcomes, start = [], threading.Barrier(2)

    def work():
        with app.app_context():
            start.wait()
            try:
                outcomes.append(jobs.process_event(row.id))
            except Exception as exc:  # SQLite: the loser may find the database locked
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert "processed" in outcomes
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Payment.id))) == 1
        assert db.session.get(Subscription, sub_id).status == SubscriptionStatus.ACTIVE
