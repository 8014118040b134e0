"""Form analytics in Debian's Chromium: with JavaScript the page's beacon tells the server of a
visit's first input and of the field or question it was left on; without, the server counts
what it sees (views, the first send as the start, errors, the completion)."""

import time

from playwright.sync_api import expect

from app.core import clock
from app.extensions import db
from app.models import PARIS, FormStat
from app.services.ops import formstats
from app.web import formtrack
from tests.browser.test_simulator import _answer
from tests.simulator.test_simulator_engine import GOLDEN


def _report(app, form, until=lambda r: True):
    """The day's report, once `until` holds (a beacon arrives on its own time)."""
    deadline = time.monotonic() + 10
    while True:
        with app.test_request_context():
            db.session.expire_all()
            today = clock.today(PARIS)
            r = formstats.report(form, today, today, formtrack.steps_of(form))
        if until(r) or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


def _step(r, code):
    return next(s for s in r.steps if s.code == code)


def test_with_javascript_a_start_and_the_field_left_reach_the_server(app, live_server, browser):
    page = browser.new_context(locale="fr-FR").new_page()
    page.goto(f"{live_server}/request")
    page.fill("#company", "Brasserie Lune")
    page.get_by_role("navigation", name="Principale").get_by_role("link", name="Contact").click()
    expect(page.locator("h1")).to_contain_text("contacter")
    r = _report(app, "request", until=lambda r: r.abandons)
    assert (r.views, r.starts, r.completions, r.abandons) == (1, 1, 0, 1)
    assert _step(r, "company").abandons == 1

    # the simulator, one question at a time: left on the question it showed
    page.goto(f"{live_server}/simulator")
    step = page.locator('#simulator input[name="question"]')
    expect(step).to_have_attribute("value", "GENERAL_001")
    _answer(page, "GENERAL_001", GOLDEN["GENERAL_001"])
    page.get_by_role("button", name="Suivant").click()
    expect(step).to_have_attribute("value", "GENERAL_002")
    page.goto(f"{live_server}/help")  # a full navigation: the page is hidden
    r = _report(app, "simulator", until=lambda r: r.abandons)
    assert (r.views, r.starts, r.completions, r.abandons) == (1, 1, 0, 1)
    first, second = _step(r, "GENERAL_001"), _step(r, "GENERAL_002")
    assert (first.views, first.answers, second.views, second.answers) == (1, 1, 1, 0)
    assert second.abandons == 1 and first.average_s is not None


def test_without_javascript_the_server_counts_the_visit(app, live_server, browser):
    page = browser.new_context(java_script_enabled=False, locale="fr-FR").new_page()
    page.goto(f"{live_server}/request")
    page.get_by_label("Être rappelé").check()
    page.get_by_role("button", name="Recalculer l'estimation").click()
    page.get_by_label("Le matin").check()
    page.fill("#company", "Brasserie Lune")
    page.fill("#contact_name", "Léa Lune")
    page.fill("#email", "pas-une-adresse")
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.locator("#error-summary, .error-summary").first).to_be_visible()
    page.fill("#email", "lea@lune.fr")
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.locator("h1")).to_contain_text("Merci")
    r = _report(app, "request")
    assert (r.views, r.starts, r.completions, r.errors, r.abandons) == (1, 1, 1, 1, 0)
    assert _step(r, "email").errors == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.sum(FormStat.n))) >= 5
