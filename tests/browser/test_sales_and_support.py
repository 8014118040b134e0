"""The sales and support journey in Debian's Chromium (A11), JavaScript on and off: a visitor
fills the request form and sees the price; a seller qualifies and wins the lead on the board;
the company signs up through its invitation, opens a ticket; support answers; the client rates
the answer."""

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.factories import PASSWORD, VALID_SIREN, make_user


def _login(page, base, email, password=PASSWORD):
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Se connecter").click()


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_request_form_to_won_lead_to_client_to_rated_ticket(
    app, live_server, run_jobs, smtp, browser, js
):
    make_user(app, Role.SALES, email="vendeur@example.fr", first_name="Samuel")
    make_user(app, Role.SUPPORT, email="support@example.fr", first_name="Sarah")
    base = live_server
    company_email = f"direction-{'js' if js else 'nojs'}@lune.fr"

    # 1. a visitor asks for a custom offer and sees the price for their numbers
    visitor = browser.new_context(java_script_enabled=js, locale="fr-FR")
    page = visitor.new_page()
    page.goto(f"{base}/request")
    page.get_by_label("Une offre sur mesure").check()
    if not js:  # the conditional questions come with "recompute"
        page.get_by_role("button", name="Recalculer l'estimation").click()
    page.fill("#q-sites", "8")
    page.fill("#q-employees", "1250")
    if not js:
        page.get_by_role("button", name="Recalculer l'estimation").click()
    # 199 € + 3 sites × 25 € + 1 050 employees × 0,30 € = 589 € a month before VAT
    expect(page.locator("#request-estimate")).to_contain_text("589")
    page.fill("#company", "Brasserie Lune")
    page.fill("#contact_name", "Léa Lune")
    page.fill("#email", company_email)
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.locator("h1")).to_contain_text("Merci")

    # 2. the seller qualifies the lead from the board, then wins it on its page
    seller_ctx = browser.new_context(java_script_enabled=js, locale="fr-FR")
    seller = seller_ctx.new_page()
    _login(seller, base, "vendeur@example.fr")
    seller.goto(f"{base}/crm")
    card = seller.locator(".board__card", has_text="Brasserie Lune")
    card.get_by_label(re.compile("Déplacer Brasserie Lune vers")).select_option("qualified")
    card.get_by_role("button", name="Déplacer").click()
    expect(seller.locator("#col-qualified").locator("xpath=..")).to_contain_text("Brasserie Lune")
    if js:  # dragging is the extra: the card moves to the column it is dropped on
        card = seller.locator(".board__card", has_text="Brasserie Lune")
        card.drag_to(seller.locator('[data-stage="proposal"]'))
        expect(seller.locator('[data-stage="proposal"]')).to_contain_text("Brasserie Lune")
    seller.get_by_role("link", name="Brasserie Lune").first.click()
    expect(seller.locator("#lead-main")).to_contain_text("589")
    seller.locator("#move-" + seller.url.rsplit("/", 1)[1] + "-page").select_option("won")
    seller.locator("#lead-main").get_by_role("button", name="Déplacer").click()
    expect(seller.locator("#lead-main")).to_contain_text("Gagné")

    # 3. the company signs up through its invitation: what the seller knew is there
    run_jobs()
    invitation = [m for m in smtp.to(company_email) if "prêt à être ouvert" in m["Subject"]][-1]
    link = re.search(r"http://\S+/register\?invite=\S+", smtp.body(invitation)).group(0)
    page.goto(
        link.replace("http://127.0.0.1:5000", base)
        if "127.0.0.1:5000" in link
        else base + link[link.index("/register") :]
    )
    expect(page.locator("#email")).to_have_value(company_email)
    expect(page.locator("#company_name")).to_have_value("Brasserie Lune")
    page.fill("#first_name", "Léa")
    page.fill("#last_name", "Lune")
    page.fill("#password", "brasserie-2026-lune")
    page.fill("#confirm", "brasserie-2026-lune")
    page.fill("#siren", VALID_SIREN)
    page.select_option("#sector", "Transport et Logistique")
    page.check("#accept")
    page.get_by_role("button", name=re.compile("Créer")).click()
    run_jobs()
    verify = [
        m for m in smtp.to(company_email) if m["Subject"] == "Confirmez votre adresse e-mail"
    ][-1]
    page.goto(
        re.search(r"http://\S+/verify/\S+", smtp.body(verify))
        .group(0)
        .replace("http://127.0.0.1:5000", base)
    )
    expect(page).to_have_url(f"{base}/dashboard")

    # 4. the client asks for help from the page they are on
    page.locator("#need-help").click()
    page.select_option("#category", "billing")
    page.fill("#subject", "Question sur l'offre")
    page.fill("#body", "Le prix comprend-il la TVA ?")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator("main")).to_contain_text("Votre demande est envoyée")
    ticket_url = page.url.split("?")[0]

    # 5. support answers (and notes something the client never sees), then resolves
    agent_ctx = browser.new_context(java_script_enabled=js, locale="fr-FR")
    agent = agent_ctx.new_page()
    _login(agent, base, "support@example.fr")
    agent.goto(f"{base}/support/queue")
    agent.get_by_role("link", name=re.compile("Question sur l'offre")).click()
    agent.fill("#body", "Client à rappeler pour l'offre Enterprise")
    agent.check("#internal")
    agent.locator("#reply").get_by_role("button", name="Envoyer").click()
    expect(agent.locator("#ticket-thread")).to_contain_text("Client à rappeler")
    # the live signal may refresh the thread before the page itself comes back: wait for it
    expect(agent.locator("#body")).to_have_value("")
    agent.fill("#body", "Non : 589 € hors taxes, soit 706,80 € TTC.")
    agent.select_option("#status", "resolved")
    agent.locator("#reply").get_by_role("button", name="Envoyer").click()
    expect(agent.locator("#ticket-thread")).to_contain_text("706,80")
    expect(agent.locator("#ticket-thread")).to_contain_text("Résolu")

    # 6. the client reads the answer (live with JavaScript, on reload without) and rates it
    if not js:
        page.reload()
    expect(page.locator("#ticket-thread")).to_contain_text("706,80", timeout=5000)
    expect(page.locator("#ticket-thread")).not_to_contain_text("rappeler")
    if js:
        page.reload()  # the rating form comes with the page, not with the live thread
    page.get_by_label("5 (très)").check()
    page.get_by_role("button", name="Noter et fermer").click()
    expect(page.locator("#ticket-thread")).to_contain_text("Noté 5 sur 5")
    assert page.url.startswith(ticket_url)
    for context in (visitor, seller_ctx, agent_ctx):
        context.close()
