"""Browser tests in Debian's Chromium; `log_in` is how each of them gets a signed-in page."""

from playwright.sync_api import expect

from tests.factories import PASSWORD


def log_in(browser, base: str, email: str, js: bool = True, **context_options):
    """A new browser context (French, JavaScript on or off) signed in as `email`."""
    context = browser.new_context(java_script_enabled=js, locale="fr-FR", **context_options)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    return page
