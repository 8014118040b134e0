"""CMI 3D Pay Hosting (A9): an invoice paid in dirhams on the local gateway (devtools), which
checks our hash-v3 form with its own implementation of the protocol, calls our callback server
to server and sends the browser back; a declined card; forged, replayed and altered callbacks."""

import json
import os
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import (
    EventStatus,
    Invoice,
    InvoiceStatus,
    Notification,
    Payment,
    PaymentStatus,
    ProviderEvent,
)
from app.services.payments import cmi
from tests.browser import log_in
from tests.factories.models import gen_admin, gen_invoice


def _world(app):
    with app.app_context():
        invoice = gen_invoice(db.session)
        admin = gen_admin(db.session)
        db.session.commit()
        client_email = db.session.get(Invoice, invoice.id).client_id
        from app.models import User

        return invoice.id, db.session.get(User, client_email).email, admin.id


def _calls(gateway):
    return json.loads(urllib.request.urlopen(f"{gateway}/_calls").read())["calls"]


@pytest.mark.parametrize(
    "card, approved", [("4242424242424242", True), ("4000000000000002", False)]
)
def test_a_client_pays_an_invoice_in_dirhams_on_cmi_page(
    app, live_server, cmi_gateway, browser, card, approved
):
    invoice_id, email, _admin = _world(app)
    page = log_in(browser, live_server, email, js=False)
    page.goto(f"{live_server}/billing/invoices/{invoice_id}")
    expect(page.locator("main")).to_contain_text(re.compile(r"48\s600,00\sMAD"))  # 4 500 € at 10.80
    page.get_by_role("button", name="Payer en dirhams avec CMI").click()
    page.get_by_role("button", name="Continuer vers la page sécurisée de CMI").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Paiement sécurisé CMI")
    page.get_by_label("Numéro de carte").fill(card)
    page.get_by_role("button", name="Payer").click()
    answer = _calls(cmi_gateway)[-1]["answer"]
    assert answer == ("ACTION=POSTAUTH" if approved else "APPROVED")
    page.get_by_role("button", name="Retour au site du commerçant").click()
    heading = "Paiement reçu" if approved else "Paiement non effectué"
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        [payment] = db.session.scalars(db.select(Payment)).all()
        assert (payment.currency, payment.amount_cents, payment.invoice_cents) == (
            "MAD",
            4_860_000,
            450_000,
        )
        if approved:
            assert payment.status == PaymentStatus.SUCCEEDED and payment.number
            assert (
                invoice.client_status == InvoiceStatus.PAID and invoice.client_paid_cents == 450_000
            )
        else:
            assert payment.status == PaymentStatus.FAILED
            assert invoice.client_status == InvoiceStatus.OPEN and invoice.client_paid_cents == 0
    page.context.close()


def _callback_fields(app, invoice_id, email, **changes):
    """What CMI would post for an approved payment of the pending payment, signed."""
    with app.test_request_context():
        from app.models import User

        invoice = db.session.get(Invoice, invoice_id)
        payer = db.session.scalar(db.select(User).where(User.email == email))
        _action, fields = cmi.start(
            invoice,
            payer,
            {
                "ok": "http://x/ok",
                "fail": "http://x/fail",
                "callback": "http://x/cb",
                "shop": "http://x",
            },
        )
    fields.pop("hash")
    fields.update(ProcReturnCode="00", Response="Approved", TransId="T1", mdStatus="1")
    fields.update(changes)
    with app.app_context():
        fields["HASH"] = cmi.hash_v3(fields, os.environ["CMI_STORE_KEY"])
    return fields


def test_forged_replayed_and_altered_callbacks(app, client):
    invoice_id, email, admin_id = _world(app)
    fields = _callback_fields(app, invoice_id, email)
    forged = dict(fields, HASH="AAAA")
    assert client.post("/webhooks/cmi", data=forged).get_data(as_text=True) == "FAILURE"
    with app.app_context():
        assert db.session.scalar(db.select(Payment)).status == PaymentStatus.PENDING

    assert client.post("/webhooks/cmi", data=fields).get_data(as_text=True) == "ACTION=POSTAUTH"
    # CMI calls again (a lost answer): the same answer, applied once
    assert client.post("/webhooks/cmi", data=fields).get_data(as_text=True) == "ACTION=POSTAUTH"
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.client_paid_cents == 450_000 and invoice.client_status == InvoiceStatus.PAID
        assert db.session.scalar(db.select(db.func.count(ProviderEvent.id))) == 1

    # a signed callback whose amount is not the one we asked for
    other = _world(app)
    altered = _callback_fields(app, other[0], other[1], amount="1.00", TransId="T2")
    assert client.post("/webhooks/cmi", data=altered).get_data(as_text=True) == "FAILURE"
    with app.app_context():
        refused = db.session.scalar(
            db.select(ProviderEvent).where(ProviderEvent.status == EventStatus.REFUSED)
        )
        assert refused is not None
        assert db.session.get(Invoice, other[0]).client_paid_cents == 0
        assert (
            db.session.scalar(
                db.select(db.func.count(Notification.id)).where(
                    Notification.type == "payment_event_flagged"
                )
            )
            >= 1
        )
