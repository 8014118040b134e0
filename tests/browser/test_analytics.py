"""Admin analytics and the dossier pack in Debian's Chromium (issue 28), JavaScript on and off:
the dashboard's filters, its figures updating live when a dossier opens (with JavaScript) or on
reload (without), an analytics view filtered from its form with the filter in the URL, and a
client's dossier pack from its button to its download."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import DossierStatus, Role, utcnow
from tests.factories import PASSWORD, make_user
from tests.factories.models import gen_client, gen_dossier, gen_expert


def _login(page, base, email, password=PASSWORD):
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Se connecter").click()


def _world(app) -> int:
    with app.app_context():
        s = db.session
        client = gen_client(s, email="cli@example.fr")
        client.client_profile.postal_code = "69003"
        expert = gen_expert(s, first_name="Ana", last_name="Martin")
        d = gen_dossier(
            s,
            client=client,
            expert=expert,
            status=DossierStatus.REFUND_CONFIRMED,
            refunded_at=utcnow() - timedelta(hours=3),
            obtained_cents=900_000,
        )
        s.commit()
        return d.id


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_dashboard_analytics_and_pack(app, live_server, run_jobs, browser, js):
    make_user(app, Role.ADMIN, email="boss@example.fr")
    dossier_id = _world(app)
    base = live_server
    ctx = browser.new_context(java_script_enabled=js, locale="fr-FR")
    page = ctx.new_page()
    _login(page, base, "boss@example.fr")

    # 1. the dashboard: one dossier opened in the period, then a second one opens
    page.goto(f"{base}/admin/")
    opened = page.locator("#kpi-opened .kpi")
    expect(opened).to_have_text("1")
    with app.app_context():
        gen_dossier(db.session, product="URSSAF")
        db.session.commit()
    if not js:
        page.reload()  # without JavaScript the page is right on reload
    expect(opened).to_have_text("2", timeout=10_000)  # with it, the signal refetched the block

    # 2. its product filter: the figures of TICPE only, the filter kept in the URL
    page.select_option("#kpi-product", label="Remboursement TICPE")
    page.get_by_role("button", name="Afficher").first.click()
    expect(page).to_have_url(re.compile(r"product=\d+"))
    expect(page.locator("#kpi-opened .kpi")).to_have_text("1")

    # 3. an analytics view filtered by département from its form
    page.goto(f"{base}/analytics/experts")
    expect(page.locator("#report")).to_contain_text("Ana Martin")
    page.fill("#f-region", "75")
    page.get_by_role("button", name="Afficher").click()
    expect(page).to_have_url(re.compile(r"region=75"))
    expect(page.locator("#report")).to_contain_text("Rien sur cette période")
    page.go_back()
    expect(page.locator("#report")).to_contain_text("Ana Martin")
    ctx.close()

    # 4. the client builds the dossier pack and downloads it
    ctx = browser.new_context(java_script_enabled=js, locale="fr-FR", accept_downloads=True)
    page = ctx.new_page()
    _login(page, base, "cli@example.fr")
    page.goto(f"{base}/dossiers/{dossier_id}")
    page.get_by_role("button", name="Préparer le dossier complet (Word et PDF)").click()
    expect(page.locator("h1")).to_have_text("Dossier complet")
    expect(page.locator("progress")).to_be_visible()
    run_jobs()
    if not js:
        page.reload()
    expect(page.get_by_text("Le dossier complet est prêt.")).to_be_visible(timeout=10_000)
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le PDF").click()
    assert (
        download.value.suggested_filename
        == f"dossier-{dossier_id}-" + utcnow().strftime("%Y%m%d") + ".pdf"
    )
    ctx.close()
