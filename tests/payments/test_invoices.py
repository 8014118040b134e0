"""Fee invoices paid (A9): the client's fee by SEPA debit through localstripe, the platform fee
by bank transfer in two parts reconciled by an admin, a refund with its credit note and the
referrer's share taken back, and the monthly payout batch as a pain.001 file checked against
its schema. Strangers see nothing."""

import json
import re
import urllib.request

import stripe
import xmlschema
from sepaxml import validation

from app.core import storage
from app.extensions import db
from app.models import (
    CommissionLine,
    CreditNote,
    DossierEvent,
    Email,
    Invoice,
    InvoiceStatus,
    LineStatus,
    Notification,
    Payment,
    PaymentStatus,
    PayoutBatch,
    Role,
    User,
)
from app.services.payments import fees
from tests.factories import login, make_user, post
from tests.factories.models import gen_admin, gen_invoice, gen_referrer
from tests.payments.helpers import wait_for_event

IBAN = "FR1420041010050500013M02606"


def _world(app, referrer=True):
    """An invoice of 15 000 € obtained: client fee 4 500 €, platform fee 1 350 € + 270 € VAT
    = 1 620 €, the referrer's share 135 € (10 % of the platform fee)."""
    with app.app_context():
        ref = gen_referrer(db.session) if referrer else None
        invoice = gen_invoice(db.session, referrer=ref)
        admin = gen_admin(db.session)
        db.session.commit()
        emails = {u.id: u.email for u in db.session.scalars(db.select(User))}
        return {
            "invoice": invoice.id,
            "client": emails[invoice.client_id],
            "expert": emails[invoice.expert_id],
            "referrer": ref.email if ref else None,
            "referrer_id": ref.id if ref else None,
            "admin": admin.email,
            "number": invoice.number,
        }


def _invoice(app, invoice_id) -> Invoice:
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        db.session.expunge(invoice)
        return invoice


def test_the_client_pays_the_fee_invoice_by_direct_debit(app, client, run_jobs, smtp, localstripe):
    w = _world(app, referrer=False)
    login(client, w["client"])
    page = client.get(f"/billing/invoices/{w['invoice']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "4 500 €" in html.replace("\u202f", " ").replace("\xa0", " ")
    with app.app_context():
        reference = fees.reference(db.session.get(Invoice, w["invoice"]), "client")
    assert reference.startswith("RF") and reference in html
    assert "FR7630006000011234567890189" in html

    bad = post(
        client,
        f"/billing/invoices/{w['invoice']}/pay",
        {"method": "sepa", "holder": "Jeanne", "iban": "FR00 0000", "mandate": "y"},
    )
    assert bad.status_code == 422 and "IBAN" in bad.get_data(as_text=True)
    paid = post(
        client,
        f"/billing/invoices/{w['invoice']}/pay",
        {"method": "sepa", "holder": "Jeanne Martin", "iban": IBAN, "mandate": "y"},
    )
    assert paid.status_code == 303
    with app.app_context():
        payment = db.session.scalar(db.select(Payment))
        assert payment.status == PaymentStatus.PENDING and payment.amount_cents == 450_000
    wait_for_event(app, "payment_intent.succeeded", payment.provider_ref)
    run_jobs()
    invoice = _invoice(app, w["invoice"])
    assert invoice.client_status == InvoiceStatus.PAID and invoice.client_paid_cents == 450_000
    assert invoice.platform_status == InvoiceStatus.OPEN  # the expert's side is theirs to pay
    with app.app_context():
        payment = db.session.get(Payment, payment.id)
        assert payment.status == PaymentStatus.SUCCEEDED and re.fullmatch(
            r"RC-\d{4}-00001", payment.number
        )
        [event] = db.session.scalars(
            db.select(DossierEvent).where(DossierEvent.action == "fee_paid")
        ).all()
        assert event.data["cents"] == 450_000
    [receipt] = [m for m in smtp.to(w["client"]) if m["Subject"] == "Votre reçu de paiement"]
    text = smtp.body(receipt)
    assert f"/billing/receipts/{payment.id}.pdf" in text and f"/invoices/{w['invoice']}.pdf" in text
    pdf = client.get(f"/billing/receipts/{payment.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "Payé" in client.get(f"/billing/invoices/{w['invoice']}").get_data(as_text=True)

    stranger = app.test_client()
    login(stranger, make_user_email(app))
    assert stranger.get(f"/billing/invoices/{w['invoice']}").status_code == 404
    assert (
        post(stranger, f"/billing/invoices/{w['invoice']}/pay", {"method": "sepa"}).status_code
        == 404
    )
    assert stranger.get(f"/billing/receipts/{payment.id}.pdf").status_code == 404


def make_user_email(app, role=Role.CLIENT):
    from tests.factories import user_email

    return user_email(app, make_user(app, role))


def test_a_transfer_in_two_parts_pays_the_platform_fee_and_earns_the_commission(app, client):
    w = _world(app)
    login(client, w["admin"])
    with app.app_context():
        reference = fees.reference(db.session.get(Invoice, w["invoice"]), "expert")
    too_much = post(client, "/admin/payments/transfer", {"reference": reference, "amount": "2 000"})
    assert too_much.status_code == 422
    assert 'value="2 000"' in too_much.get_data(as_text=True)
    first = post(
        client,
        "/admin/payments/transfer",
        {"reference": reference, "amount": "1 000,00", "bank_reference": "VIR-1"},
    )
    assert first.status_code == 303
    invoice = _invoice(app, w["invoice"])
    assert invoice.platform_status == InvoiceStatus.OPEN and invoice.due_from("expert") == 62_000
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(CommissionLine.id))) == 0
    # by invoice number, the admin says who paid
    second = post(
        client,
        "/admin/payments/transfer",
        {"reference": w["number"], "party": "expert", "amount": "620"},
    )
    assert second.status_code == 303
    invoice = _invoice(app, w["invoice"])
    assert invoice.platform_status == InvoiceStatus.PAID and invoice.due_from("expert") == 0
    with app.app_context():
        [line] = db.session.scalars(db.select(CommissionLine)).all()
        assert (line.amount_cents, line.status, line.referrer_id) == (
            13_500,
            LineStatus.PAYABLE,
            w["referrer_id"],
        )
        expert = db.session.scalar(db.select(User).where(User.email == w["expert"]))
        told = db.session.scalars(
            db.select(Notification.type).where(Notification.user_id == expert.id)
        ).all()
        assert told.count("payment_receipt") == 2
    again = post(client, "/admin/payments/transfer", {"reference": reference, "amount": "1"})
    assert again.status_code == 422  # paid: not open any more


def test_a_refund_makes_a_credit_note_and_takes_the_commission_back(
    app, client, run_jobs, localstripe
):
    w = _world(app)
    expert = app.test_client()
    login(expert, w["expert"])
    resp = post(
        expert,
        f"/billing/invoices/{w['invoice']}/pay",
        {"method": "sepa", "holder": "Cabinet Test", "iban": IBAN, "mandate": "y"},
    )
    assert resp.status_code == 303
    with app.app_context():
        payment = db.session.scalar(db.select(Payment))
    wait_for_event(app, "payment_intent.succeeded", payment.provider_ref)
    run_jobs()
    assert _invoice(app, w["invoice"]).platform_status == InvoiceStatus.PAID

    login(client, w["admin"])
    over = post(
        client, f"/admin/payments/{payment.id}/refund", {"amount": "2 000", "reason": "Erreur"}
    )
    assert over.status_code == 422
    done = post(
        client,
        f"/admin/payments/{payment.id}/refund",
        {"amount": "810", "reason": "Geste commercial"},
    )
    assert done.status_code == 303
    with app.app_context():
        note = db.session.scalar(db.select(CreditNote))
        assert re.fullmatch(r"AV-\d{4}-00001", note.number) and note.amount_cents == 81_000
        lines = sorted(line.amount_cents for line in db.session.scalars(db.select(CommissionLine)))
        assert lines == [-6_750, 13_500]  # half the payment back: half the share back
        assert db.session.get(Payment, payment.id).refunded_cents == 81_000
    api = stripe.StripeClient("sk_test_suite", base_addresses={"api": localstripe})
    [refund] = api.v1.refunds.list(params={"payment_intent": payment.provider_ref}).data
    assert refund.amount == 81_000


def test_the_monthly_payout_pays_referrers_above_50_euros_by_sepa_transfer(
    app, client, run_jobs, smtp
):
    with app.app_context():
        paid_ref = gen_referrer(db.session)
        small_ref = gen_referrer(db.session)
        no_iban = gen_referrer(db.session)
        for ref in (paid_ref, paid_ref, small_ref, no_iban):
            invoice = gen_invoice(
                db.session, referrer=ref, obtained_cents=500_000 if ref is small_ref else 1_500_000
            )
            db.session.add(
                CommissionLine(
                    referrer_id=ref.id,
                    invoice_id=invoice.id,
                    source=f"invoice:{invoice.id}",
                    amount_cents=invoice.referrer_cents,
                )
            )
        paid_ref.referrer_profile.iban, paid_ref.referrer_profile.iban_holder = (
            IBAN,
            "Apport Conseil",
        )
        small_ref.referrer_profile.iban = IBAN
        admin = gen_admin(db.session)
        db.session.commit()
        ids = (paid_ref.id, small_ref.id, no_iban.id)
        admin_email, paid_email = admin.email, paid_ref.email
    login(client, admin_email)
    page = client.get("/admin/payouts").get_data(as_text=True)
    assert page.count("pas encore d'IBAN valide") == 1  # the one without an IBAN
    assert post(client, "/admin/payouts").status_code == 303
    with app.app_context():
        [batch] = db.session.scalars(db.select(PayoutBatch)).all()
        assert (batch.count, batch.total_cents) == (1, 27_000)  # 2 × 135 €; 45 € is below 50 €
        xml = storage.read(batch.xml_key)
    schema = xmlschema.XMLSchema(
        str(validation.__file__).replace("validation.py", "schemas/pain.001.001.03.xsd")
    )
    schema.validate(xml)
    text = xml.decode()
    assert IBAN in text and '<InstdAmt Ccy="EUR">270.00</InstdAmt>' in text
    download = client.get(f"/admin/payouts/{batch.id}.xml")
    assert download.status_code == 200 and download.data == xml

    assert post(client, f"/admin/payouts/{batch.id}/sent").status_code == 303
    run_jobs()
    with app.app_context():
        statuses = dict(
            db.session.execute(
                db.select(CommissionLine.referrer_id, db.func.count())
                .where(CommissionLine.status == LineStatus.PAID)
                .group_by(CommissionLine.referrer_id)
            ).all()
        )
        assert statuses == {ids[0]: 2}
        assert (
            db.session.scalar(
                db.select(Email).where(Email.template == "payout_processed")
            ).recipient
            == paid_email
        )
    twice = post(client, f"/admin/payouts/{batch.id}/sent")
    assert twice.status_code == 303
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(db.func.count(Email.id)).where(Email.template == "payout_processed")
            )
            == 1
        )


def test_a_referrer_sees_their_commissions_and_enters_a_valid_iban(app, client):
    w = _world(app)
    login(client, w["referrer"])
    page = client.get("/billing").get_data(as_text=True)
    assert "135 €" in page.replace("\u202f", " ").replace(
        "\xa0", " "
    )  # pending: the platform invoice is open
    bad = post(
        client,
        "/billing/bank-account",
        {"holder": "Apport Conseil", "iban": "FR76 3000 6000 0112 3456 7890 180"},
    )
    assert bad.status_code == 422 and "FR76 3000 6000 0112 3456 7890 180" in bad.get_data(
        as_text=True
    )
    good = post(
        client,
        "/billing/bank-account",
        {"holder": "Apport Conseil", "iban": "fr76 3000 6000 0112 3456 7890 189"},
    )
    assert good.status_code == 303
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == w["referrer"]))
        assert user.referrer_profile.iban == "FR7630006000011234567890189"


def test_a_card_payment_the_bank_wants_confirmed_is_finished_in_the_browser(
    app, client, run_jobs, localstripe
):
    w = _world(app, referrer=False)
    login(client, w["client"])
    api = stripe.StripeClient("sk_test_suite", base_addresses={"api": localstripe})
    card = api.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000002500003155", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    resp = post(
        client,
        f"/billing/invoices/{w['invoice']}/pay",
        {"method": "card", "method_ref": card.id},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="card-authenticate"' in html
    secret = re.search(r'data-client-secret="([^"]+)"', html).group(1)
    with app.app_context():
        payment = db.session.scalar(db.select(Payment))
        assert payment.status == PaymentStatus.PENDING
    # what Stripe.js does once the card holder has confirmed in their bank's window
    done = urllib.request.urlopen(
        urllib.request.Request(
            f"{localstripe}/v1/payment_intents/{payment.provider_ref}/_authenticate?success=true",
            data=json.dumps({"key": "pk_test_suite", "client_secret": secret}).encode(),
            method="POST",
        )
    )
    assert done.status == 200
    wait_for_event(app, "payment_intent.succeeded", payment.provider_ref)
    run_jobs()
    assert _invoice(app, w["invoice"]).client_status == InvoiceStatus.PAID
