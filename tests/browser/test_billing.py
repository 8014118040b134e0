"""A client compares plans, subscribes to Pro, pays a fee invoice and downloads the receipts,
in Chromium against the live server and localstripe: by card through Stripe.js with JavaScript
on, by SEPA direct debit with JavaScript off."""

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import DossierStatus, Payment, Role, User
from tests.browser import log_in
from tests.factories import make_user
from tests.factories.models import gen_dossier, gen_expert, gen_invoice
from tests.payments.helpers import wait_for_event


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_a_client_subscribes_to_pro_pays_a_fee_invoice_and_downloads_the_receipts(
    app, live_server, localstripe, run_jobs, browser, js
):
    email = f"pro-{'js' if js else 'nojs'}@transports.fr"
    make_user(app, Role.CLIENT, email=email)
    page = log_in(browser, live_server, email, js=js)
    page.goto(f"{live_server}/plans")
    page.fill("#param-sites", "2")
    if not js:
        page.get_by_role("button", name="Recalculer les prix").click()
    # 49 € + one more site at 15 € = 64 € before VAT, 76,80 € with it
    expect(page.locator("#plan-pro")).to_contain_text("76,80 €")
    page.locator("#plan-pro").get_by_role("link", name="Choisir Pro").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Souscrire à Pro")
    expect(page.locator("main")).to_contain_text("76,80 € par mois TTC")

    _pay(page, js)
    page.get_by_role("button", name="Souscrire et payer 76,80 €").click()
    expect(page).to_have_url(f"{live_server}/billing")
    expect(page.locator("#billing-status")).to_contain_text("en cours de confirmation")

    wait_for_event(app, "invoice.payment_succeeded")
    run_jobs()
    if not js:
        page.reload()
    # with JavaScript the status polls and turns by itself
    expect(page.locator("#billing-status")).to_contain_text("Pro", timeout=10_000)
    expect(page.locator("#billing-status")).not_to_contain_text("en cours de confirmation")
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").click()
    assert download.value.suggested_filename.startswith("FT-")

    # then the expert's fee invoice of one of their dossiers, paid the same way
    with app.app_context():
        client = db.session.scalar(db.select(User).where(User.email == email))
        dossier = gen_dossier(
            db.session,
            client=client,
            expert=gen_expert(db.session),
            status=DossierStatus.REFUND_CONFIRMED,
        )
        invoice = gen_invoice(db.session, dossier=dossier)
        db.session.commit()
        number = invoice.number
    page.goto(f"{live_server}/billing")
    page.get_by_role("link", name="Changer de moyen de paiement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Moyen de paiement")
    page.get_by_role("link", name="Retour à la facturation").click()
    page.get_by_role("link", name=number).click()
    expect(page.locator("#payment-reference")).to_contain_text("RF")
    _pay(page, js)
    page.get_by_role("button", name="Payer 4 500 €").click()
    expect(page.locator("#toasts")).to_contain_text("en cours de confirmation")
    with app.app_context():
        intent = db.session.scalar(
            db.select(Payment.provider_ref).where(Payment.invoice_id == invoice.id)
        )
    wait_for_event(app, "payment_intent.succeeded", intent)
    run_jobs()
    page.reload()
    expect(page.locator("#invoice-summary")).to_contain_text("Payé")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Reçu RC-")).click()
    assert download.value.suggested_filename.startswith("RC-")
    page.context.close()


def _pay(page, js: bool) -> None:
    """Card through Stripe.js with JavaScript, SEPA direct debit without."""
    if js:
        page.get_by_role("radio", name="Carte").check()
        card = page.locator("#card-element")
        card.locator("input[placeholder=number]").fill("4242424242424242")
        card.locator("input[placeholder=exp_month]").fill("12")
        card.locator("input[placeholder=exp_year]").fill("30")
        card.locator("input[placeholder=cvc]").fill("123")
        card.locator("input[placeholder=postal_code]").fill("75001")
    else:
        expect(page.get_by_role("radio", name="Carte")).to_be_hidden()
        page.get_by_label("IBAN").fill("FR14 2004 1010 0505 0001 3M02 606")
        page.get_by_label("J'autorise FinancialTracker à prélever ce compte").check()


def test_a_card_payment_the_bank_wants_confirmed_goes_through_its_window(
    app, live_server, localstripe, run_jobs, browser
):
    email = "sca@transports.fr"
    make_user(app, Role.CLIENT, email=email)
    with app.app_context():
        client = db.session.scalar(db.select(User).where(User.email == email))
        dossier = gen_dossier(
            db.session,
            client=client,
            expert=gen_expert(db.session),
            status=DossierStatus.REFUND_CONFIRMED,
        )
        invoice = gen_invoice(db.session, dossier=dossier)
        db.session.commit()
        invoice_id = invoice.id
    page = log_in(browser, live_server, email)
    page.goto(f"{live_server}/billing/invoices/{invoice_id}")
    page.get_by_role("radio", name="Carte").check()
    card = page.locator("#card-element")
    card.locator("input[placeholder=number]").fill("4000002500003155")  # asks for 3-D Secure
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("30")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("75001")
    page.get_by_role("button", name="Payer 4 500 €").click()
    # the bank's window when the card is saved, then when it is charged (localstripe's stand-in)
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Confirmez le paiement auprès de votre banque"
    )
    page.get_by_role("button", name="Complete authentication").click()
    expect(page).to_have_url(f"{live_server}/billing/invoices/{invoice_id}")
    with app.app_context():
        intent = db.session.scalar(
            db.select(Payment.provider_ref).where(Payment.invoice_id == invoice_id)
        )
    wait_for_event(app, "payment_intent.succeeded", intent)
    run_jobs()
    page.reload()
    expect(page.locator("#invoice-summary")).to_contain_text("Payé")
    page.context.close()
