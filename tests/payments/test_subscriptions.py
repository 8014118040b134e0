"""Plan subscriptions against localstripe (a stateful Stripe-compatible server): bought by SEPA
direct debit without JavaScript, renewed, failed and recovered by dunning, ended by dunning,
changed to a smaller plan, stopped; the provider down or not configured. Webhooks are
localstripe's own, delivered to the live server; what localstripe never sends
(`invoice.payment_failed`) is built from its real invoice and signed with Stripe's scheme."""

import os
import re
from datetime import timedelta

import pytest
import stripe

from app.extensions import db
from app.models import (
    Email,
    Payment,
    PaymentStatus,
    Role,
    Subscription,
    SubscriptionStatus,
    utcnow,
)
from app.services import plans
from app.services.payments import subscriptions
from tests.factories import login, make_user, post, user_email
from tests.payments.helpers import deliver, event, wait_for_event

IBAN = "FR1420041010050500013M02606"
FAILING_CARD = "4000000000000341"  # attaches, then every charge is declined


@pytest.fixture
def stripe_api(localstripe):
    return stripe.StripeClient(
        "sk_test_suite", base_addresses={"api": localstripe}, max_network_retries=0
    )


def _sub(app, client_id) -> Subscription:
    with app.app_context():
        sub = db.session.scalar(
            db.select(Subscription)
            .where(Subscription.client_id == client_id)
            .order_by(Subscription.id.desc())
            .limit(1)
        )
        db.session.expunge(sub)
        return sub


def _checkout(web, code="pro", **fields):
    data = {
        "cycle": "month",
        "sites": "1",
        "employees": "20",
        "vehicles": "5",
        "products": "3",
        "method": "sepa",
        "holder": "Jeanne Martin",
        "iban": IBAN,
        "mandate": "y",
    }
    data.update(fields)
    return post(web, f"/billing/checkout/{code}", data)


def _subscribed(app, web, run_jobs, code="pro", **fields):
    """A client on `code`, its first payment confirmed by localstripe's webhook."""
    client_id = make_user(app, Role.CLIENT)
    login(web, user_email(app, client_id))
    resp = _checkout(web, code, **fields)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    sub = _sub(app, client_id)
    wait_for_event(app, "customer.subscription.created", sub.provider_ref)
    wait_for_event(app, "invoice.payment_succeeded")
    run_jobs()
    return client_id, _sub(app, client_id)


def _failed_renewal(app, web, stripe_api, sub):
    """A renewal invoice at Stripe that the client's (now failing) card cannot pay, and the
    `invoice.payment_failed` Stripe would send about it."""
    remote = stripe_api.v1.subscriptions.retrieve(sub.provider_ref)
    bad = stripe_api.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": FAILING_CARD, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    stripe_api.v1.payment_methods.attach(bad.id, params={"customer": remote.customer})
    stripe_api.v1.customers.update(
        remote.customer, params={"invoice_settings": {"default_payment_method": bad.id}}
    )
    invoice = stripe_api.v1.invoices.create(
        params={"customer": remote.customer, "subscription": sub.provider_ref}
    )
    assert stripe_api.v1.invoices.pay(invoice.id).status == "open"  # declined
    failed = stripe_api.v1.invoices.retrieve(invoice.id).to_dict()
    assert deliver(web, event("invoice.payment_failed", failed)).status_code == 200
    return remote.customer, invoice.id


def test_a_client_subscribes_to_pro_by_direct_debit_without_javascript(
    app, client, run_jobs, smtp, localstripe
):
    client_id = make_user(app, Role.CLIENT)
    login(client, user_email(app, client_id))
    page = client.get("/plans?sites=1&employees=20&vehicles=5&products=3").get_data(as_text=True)
    link = re.search(r'href="(/billing/checkout/pro\?[^"]+)"', page).group(1)
    form = client.get(link.replace("&amp;", "&"))
    assert form.status_code == 200
    assert "58,80" in form.get_data(as_text=True)  # 49 € + 20 % VAT

    bad = _checkout(client, iban="FR76 1234 5678 9012", holder="Jeanne Martin")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "IBAN" in text and "Jeanne Martin" in text
    unsigned = _checkout(client, mandate="")
    assert unsigned.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Subscription.id))) == 0

    assert _checkout(client).status_code == 303
    pending = client.get("/billing").get_data(as_text=True)
    assert 'hx-trigger="every 3s"' in pending  # being confirmed: the page polls
    sub = _sub(app, client_id)
    assert sub.status == SubscriptionStatus.INCOMPLETE and sub.provider_ref.startswith("sub_")
    wait_for_event(app, "invoice.payment_succeeded")
    run_jobs()

    with app.app_context():
        assert plans.plan_code_of(client_id) == "pro"
        [payment] = db.session.scalars(db.select(Payment)).all()
        assert (payment.status, payment.amount_cents, payment.currency) == (
            PaymentStatus.SUCCEEDED,
            5880,
            "EUR",
        )
    billing = client.get("/billing")
    assert billing.status_code == 200
    html = billing.get_data(as_text=True)
    assert payment.number in html and "every 3s" not in html
    assert (
        client.get("/billing", headers={"HX-Request": "true", "HX-Target": "billing"}).status_code
        == 286
    )
    pdf = client.get(f"/billing/receipts/{payment.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    mails = {m["Subject"]: m for m in smtp.to(user_email(app, client_id))}
    assert set(mails) == {"Votre reçu de paiement", "Votre formule a changé"}
    receipt_mail = smtp.body(mails["Votre reçu de paiement"])
    assert payment.number in receipt_mail and f"/billing/receipts/{payment.id}.pdf" in receipt_mail

    stranger = make_user(app, Role.CLIENT)
    client.post("/logout", data={})
    other = app.test_client()
    login(other, user_email(app, stranger))
    assert other.get(f"/billing/receipts/{payment.id}.pdf").status_code == 404


def test_a_renewal_paid_at_stripe_becomes_a_second_receipt(app, client, run_jobs, stripe_api):
    client_id, sub = _subscribed(app, client, run_jobs)
    remote = stripe_api.v1.subscriptions.retrieve(sub.provider_ref)
    invoice = stripe_api.v1.invoices.create(
        params={"customer": remote.customer, "subscription": sub.provider_ref}
    )
    assert stripe_api.v1.invoices.pay(invoice.id).status == "paid"
    wait_for_event(app, "invoice.payment_succeeded", invoice.id)
    run_jobs()
    with app.app_context():
        payments = db.session.scalars(db.select(Payment).order_by(Payment.id)).all()
        assert [p.status for p in payments] == [PaymentStatus.SUCCEEDED] * 2
        assert len({p.number for p in payments}) == 2
        assert db.session.get(Subscription, sub.id).status == SubscriptionStatus.ACTIVE


def test_a_failed_renewal_is_retried_on_schedule_and_recovered(
    app, client, run_jobs, stripe_api, smtp
):
    client_id, sub = _subscribed(app, client, run_jobs)
    customer, invoice_id = _failed_renewal(app, client, stripe_api, sub)
    run_jobs()
    past_due = _sub(app, client_id)
    assert past_due.status == SubscriptionStatus.PAST_DUE
    assert past_due.next_retry_at - past_due.dunning_since == timedelta(days=3)
    with app.app_context():
        assert plans.plan_code_of(client_id) == "pro"  # the plan holds during dunning
        assert "payment_failed" in {e.template for e in db.session.scalars(db.select(Email))}
    assert "n'a pas pu être débité" in client.get("/billing").get_data(as_text=True)

    # the client gives another account on their billing page; the first retry is 3 days later
    bad = post(
        client,
        "/billing/method",
        {"method": "sepa", "holder": "Jeanne", "iban": "FR76 1", "mandate": "y"},
    )
    assert bad.status_code == 422 and 'value="FR76 1"' in bad.get_data(as_text=True)
    fixed = post(
        client,
        "/billing/method",
        {"method": "sepa", "holder": "Jeanne Martin", "iban": IBAN, "mandate": "y"},
    )
    assert fixed.status_code == 303
    default = stripe_api.v1.customers.retrieve(customer).invoice_settings.default_payment_method
    assert stripe_api.v1.payment_methods.retrieve(default).type == "sepa_debit"
    with app.test_request_context():
        assert subscriptions.run_dunning(utcnow() + timedelta(days=1))["tried"] == 0
        counts = subscriptions.run_dunning(utcnow() + timedelta(days=3, minutes=1))
        assert counts == {"tried": 1, "recovered": 1, "ended": 0}
    wait_for_event(app, "invoice.payment_succeeded", invoice_id)
    run_jobs()
    recovered = _sub(app, client_id)
    assert recovered.status == SubscriptionStatus.ACTIVE and recovered.dunning_attempts == 0
    with app.app_context():
        payment = db.session.scalar(db.select(Payment).where(Payment.provider_ref == invoice_id))
        assert payment.status == PaymentStatus.SUCCEEDED and payment.number


def test_after_the_last_failed_retry_the_client_is_back_on_starter(
    app, client, run_jobs, stripe_api
):
    client_id, sub = _subscribed(app, client, run_jobs)
    _failed_renewal(app, client, stripe_api, sub)
    run_jobs()
    start = _sub(app, client_id).dunning_since
    with app.test_request_context():  # as the cron job runs it (links in the emails)
        for day in (3, 7, 14):
            subscriptions.run_dunning(start + timedelta(days=day, minutes=1))
        # a second sweep at the same time finds nothing more to try
        assert subscriptions.run_dunning(start + timedelta(days=15))["tried"] == 0
        assert plans.plan_code_of(client_id) == "starter"
        ended = db.session.get(Subscription, sub.id)
        assert ended.status == SubscriptionStatus.CANCELED and ended.dunning_attempts == 3
        assert [e.template for e in db.session.scalars(db.select(Email))].count("plan_changed") == 2
    assert stripe_api.v1.subscriptions.retrieve(sub.provider_ref).status == "canceled"


def test_a_client_moves_to_a_smaller_plan_on_the_same_stripe_subscription(
    app, client, run_jobs, stripe_api
):
    client_id, big = _subscribed(app, client, run_jobs, code="enterprise")
    assert big.status == SubscriptionStatus.ACTIVE
    page = client.get("/billing/checkout/pro?sites=1&employees=20&vehicles=5&products=3")
    assert "IBAN" not in page.get_data(as_text=True)  # the method on file is used
    resp = _checkout(client, "pro", iban="", holder="", mandate="")
    assert resp.status_code == 303, resp.get_data(as_text=True)[:1500]
    with app.app_context():
        assert plans.plan_code_of(client_id) == "pro"
        old = db.session.get(Subscription, big.id)
        assert old.status == SubscriptionStatus.CANCELED and old.provider_ref is None
        new = subscriptions.live_of(client_id)
        assert new.provider_ref == big.provider_ref and new.started_at is not None
    remote = stripe_api.v1.subscriptions.retrieve(big.provider_ref)
    assert remote["items"]["data"][0]["plan"]["id"] == "ft_pro_month_5880"


def test_a_client_stops_their_plan_at_the_end_of_the_period(app, client, run_jobs, stripe_api):
    client_id, sub = _subscribed(app, client, run_jobs)
    assert post(client, "/billing/cancel").status_code == 303
    assert stripe_api.v1.subscriptions.retrieve(sub.provider_ref).cancel_at_period_end is True
    assert _sub(app, client_id).cancel_at_period_end
    with app.app_context():
        assert plans.plan_code_of(client_id) == "pro"  # until Stripe ends it
    assert "s'arrête le" in client.get("/billing").get_data(as_text=True)
    stripe_api.v1.subscriptions.cancel(sub.provider_ref)  # the period is over
    wait_for_event(app, "customer.subscription.deleted", sub.provider_ref)
    run_jobs()
    with app.app_context():
        assert plans.plan_code_of(client_id) == "starter"


def test_the_provider_down_at_checkout_leaves_nothing_behind(app, client, localstripe):
    client_id = make_user(app, Role.CLIENT)
    login(client, user_email(app, client_id))
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    app.extensions.pop("stripe_client", None)
    try:
        resp = _checkout(client)
    finally:
        app.config["STRIPE_API_BASE"] = os.environ["STRIPE_API_BASE"]
        app.extensions.pop("stripe_client", None)
    assert resp.status_code == 503 and "Jeanne Martin" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Subscription.id))) == 0


def test_without_keys_the_pages_say_online_payment_is_not_configured(app, client):
    client_id = make_user(app, Role.CLIENT)
    login(client, user_email(app, client_id))
    app.config["STRIPE_SECRET_KEY"] = ""
    try:
        page = client.get("/billing/checkout/pro").get_data(as_text=True)
        billing = client.get("/billing").get_data(as_text=True)
        refused = _checkout(client)
    finally:
        app.config["STRIPE_SECRET_KEY"] = os.environ["STRIPE_SECRET_KEY"]
    assert "IBAN" not in page and "virement" in page
    assert "virement" in billing
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Subscription.id))) == 0


def test_a_declined_card_at_checkout_leaves_no_subscription(app, client, stripe_api):
    client_id = make_user(app, Role.CLIENT)
    login(client, user_email(app, client_id))
    declined = stripe_api.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": FAILING_CARD, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    resp = _checkout(client, method="card", method_ref=declined.id, iban="", mandate="")
    assert resp.status_code == 422 and "refusé" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Subscription.id))) == 0
        assert plans.plan_code_of(client_id) == "starter"


def test_the_billing_history_pages_by_twenty(app, client):
    client_id = make_user(app, Role.CLIENT)
    with app.app_context():
        for i in range(25):
            db.session.add(
                Payment(
                    payer_id=client_id,
                    kind="subscription",
                    provider="stripe",
                    provider_ref=f"in_page_{i}",
                    status=PaymentStatus.SUCCEEDED,
                    amount_cents=5880,
                    number=f"FT-2026-{i + 1:05d}",
                    paid_at=utcnow(),
                )
            )
        db.session.commit()
    login(client, user_email(app, client_id))
    first = client.get("/billing").get_data(as_text=True)
    assert "FT-2026-00025" in first and "FT-2026-00006" in first and "FT-2026-00005" not in first
    older = re.search(r'href="(/billing\?before=\d+)"', first).group(1)
    second = client.get(older).get_data(as_text=True)
    assert "FT-2026-00005" in second and "FT-2026-00001" in second and "FT-2026-00006" not in second
    assert "Paiements plus anciens" not in second and "Paiements plus anciens" in first
