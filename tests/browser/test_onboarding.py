"""Debian's Chromium through Playwright, against the live gunicorn server: JavaScript on and off."""

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.factories import make_user
from tests.realtime.test_socket import login_http


def approve_as_admin(base_url: str, applicant_email: str) -> None:
    http = login_http(base_url, "boss@example.fr")
    page = http.get(f"{base_url}/admin/approvals").text
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    user_id = re.search(
        rf"application-(\d+)\">\s*<strong>[^<]*</strong> · {re.escape(applicant_email)}", page
    ).group(1)
    resp = http.post(
        f"{base_url}/admin/approvals/expert/{user_id}/approve",
        data={"csrf_token": token},
        allow_redirects=False,
    )
    assert resp.status_code == 303


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_apply_verify_login_then_live_approval(app, live_server, run_jobs, smtp, browser, js):
    make_user(app, role=Role.ADMIN, email="boss@example.fr")
    context = browser.new_context(java_script_enabled=js, locale="fr-FR")
    page = context.new_page()
    email = f"elise-{'js' if js else 'nojs'}@energie.fr"

    page.goto(f"{live_server}/apply/expert")
    page.fill("#first_name", "Élise")
    page.fill("#last_name", "Garnier")
    page.fill("#email", email)
    page.fill("#password", "energie-2026-x")
    page.fill("#confirm", "energie-2026-x")
    page.fill("#years_experience", "6")
    page.check("#accept")
    page.get_by_role("button", name="Envoyer ma candidature").click()
    expect(page).to_have_url(f"{live_server}/register/sent")
    expect(page.locator("main")).to_contain_text(email)

    run_jobs()
    [message] = [m for m in smtp.to(email) if m["Subject"] == "Confirmez votre adresse e-mail"]
    link = re.search(r"http://\S+/verify/\S+", smtp.body(message)).group(0)
    page.goto(link)  # the first use of the link opens the account
    expect(page).to_have_url(f"{live_server}/dashboard")
    expect(page.locator("#toasts")).to_contain_text("votre adresse e-mail est confirmée")
    expect(page.locator("#application-status")).to_contain_text("En attente de validation")

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", "energie-2026-x")
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(f"{live_server}/dashboard")
    badge = page.locator("#unread-badge")
    expect(badge).to_have_text(re.compile(r":\s*0\s"))
    if js:
        expect(page.locator("html")).to_have_attribute("data-live", "on")

    approve_as_admin(live_server, email)

    if js:  # the signal arrives, the badge refetches itself and a toast shows the notification
        expect(badge).to_have_text(re.compile(r":\s*1\s"), timeout=5000)
        expect(page.locator("#toasts")).to_contain_text("Votre candidature est acceptée")
        expect(page.locator("#application-status")).to_contain_text("Validé")
    else:  # no live update without JavaScript; a reload shows everything
        expect(badge).to_have_text(re.compile(r":\s*0\s"))
        page.reload()
        expect(page.locator("#unread-badge")).to_have_text(re.compile(r":\s*1\s"))
        expect(page.locator("#application-status")).to_contain_text("Validé")
    page.get_by_role("link", name=re.compile("Notifications")).click()
    expect(page.locator("#notification-list")).to_contain_text("Votre candidature est acceptée")
    context.close()
