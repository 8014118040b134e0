"""The alert centre in Debian's Chromium: an alert opened by a sweep appears on an admin's open
page without a reload (socket signal, then a fragment fetch), and the same list filtered and
acknowledged with JavaScript off."""

from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from app.core import clock
from app.extensions import db
from app.models import Alert, DossierStatus, Role, User
from app.services import sla
from tests.browser import log_in
from tests.factories import make_user
from tests.factories.models import gen_dossier

PARIS = ZoneInfo("Europe/Paris")


def _late_dossier(app, tag: str) -> int:
    """A documents review that breaches: asked on Monday 09:00, swept a week later."""
    expert_id = make_user(app, Role.EXPERT, email=f"alert-exp-{tag}@example.fr")
    client_id = make_user(app, Role.CLIENT, email=f"alert-cli-{tag}@example.fr")
    with app.test_request_context():
        expert, client = db.session.get(User, expert_id), db.session.get(User, client_id)
        with clock.frozen(datetime(2027, 1, 11, 9, tzinfo=PARIS)):
            d = gen_dossier(
                db.session, client=client, expert=expert, status=DossierStatus.DOCUMENTS_SENT
            )
            sla.on_transition(d, DossierStatus.DOCUMENTS_REQUESTED, client)
        db.session.commit()
        return d.id


def _sweep(app) -> int:
    with app.test_request_context():
        with clock.frozen(datetime(2027, 1, 18, 9, tzinfo=PARIS)):
            sla.sweep()
        return db.session.scalar(db.select(Alert.id).order_by(Alert.id.desc()))


def test_a_new_alert_appears_live(app, live_server, browser):
    make_user(app, Role.ADMIN, email="alert-admin-live@example.fr")
    dossier_id = _late_dossier(app, "live")
    admin = log_in(browser, live_server, "alert-admin-live@example.fr")
    admin.goto(f"{live_server}/admin/alerts")
    expect(admin.locator("html[data-live=on]")).to_have_count(1)  # the socket is up
    expect(admin.locator("#alert-list")).to_contain_text("Aucune alerte")
    alert_id = _sweep(app)
    # the open page receives the signal and fetches its fragment, without a reload
    row = admin.locator(f"#alert-{alert_id}")
    expect(row).to_be_visible(timeout=8000)
    expect(row).to_contain_text(f"#{dossier_id}")
    expect(admin.locator("#alert-count")).not_to_have_text("0")
    admin.context.close()


def test_filter_and_acknowledge_without_javascript(app, live_server, browser):
    make_user(app, Role.ADMIN, email="alert-admin-nojs@example.fr", first_name="Alice")
    _late_dossier(app, "nojs")
    alert_id = _sweep(app)
    admin = log_in(browser, live_server, "alert-admin-nojs@example.fr", js=False)
    admin.goto(f"{live_server}/admin/alerts")
    expect(admin.locator(f"#alert-{alert_id}")).to_be_visible()
    admin.select_option("#alert-status", "resolved")
    admin.get_by_role("button", name="Filtrer").click()
    assert "status=resolved" in admin.url
    expect(admin.locator(f"#alert-{alert_id}")).to_have_count(0)
    admin.goto(f"{live_server}/admin/alerts/{alert_id}")
    admin.get_by_role("button", name="Prendre en compte").click()
    expect(admin.locator("#alert-status")).to_contain_text("prise en compte par Alice")
    admin.context.close()
