"""Two people chatting in Debian's Chromium: the client's message appears on the expert's open
page without a reload (socket signal, then a fragment fetch); and the thread with JS off."""

from playwright.sync_api import expect

from app.extensions import db
from app.models import ApprovalStatus, Dossier, DossierStatus, Product, Role
from tests.browser import log_in
from tests.factories import make_user


def _setup(app, tag):
    client = make_user(app, Role.CLIENT, email=f"chat-cli-{tag}@example.fr", first_name="Claire")
    expert = make_user(
        app,
        Role.EXPERT,
        email=f"chat-exp-{tag}@example.fr",
        first_name="Paul",
        approval_status=ApprovalStatus.APPROVED,
    )
    with app.app_context():
        product = db.session.scalar(db.select(Product.id).where(Product.code == "TICPE"))
        dossier = Dossier(
            client_id=client,
            product_id=product,
            expert_id=expert,
            status=DossierStatus.AUDIT_IN_PROGRESS,
        )
        db.session.add(dossier)
        db.session.commit()
        return dossier.id


def test_two_people_chat_live(app, live_server, browser):
    dossier_id = _setup(app, "live")
    client = log_in(browser, live_server, "chat-cli-live@example.fr")
    expert = log_in(browser, live_server, "chat-exp-live@example.fr")
    client.goto(f"{live_server}/messages/dossier/{dossier_id}")
    expert.goto(f"{live_server}/messages/dossier/{dossier_id}")
    expect(expert.locator("html[data-live=on]")).to_have_count(1)  # the socket is up
    client.fill("#message-body", "Bonjour Paul, où en est l'audit ?")
    client.get_by_role("button", name="Envoyer", exact=True).click()
    # htmx: the sender's form clears and the message is shown at once
    expect(client.locator("#message-body")).to_have_value("")
    expect(client.locator("#messages-list")).to_contain_text("où en est l'audit")
    # the expert's open page receives it live, without a reload
    expect(expert.locator("#messages-list")).to_contain_text("où en est l'audit", timeout=8000)
    expert.fill("#message-body", "Presque fini !")
    expect(client.locator("#typing")).to_contain_text("Paul écrit", timeout=8000)
    expert.get_by_role("button", name="Envoyer", exact=True).click()
    expect(client.locator("#messages-list")).to_contain_text("Presque fini", timeout=8000)
    expect(expert.locator("#seen")).to_contain_text("Vu", timeout=8000)
    # presence: the expert is shown online; closing their page shows them gone, live
    expect(client.locator("#presence .dot--on")).to_have_count(1, timeout=8000)
    expert.context.close()
    expect(client.locator("#presence .dot--on")).to_have_count(0, timeout=8000)
    expect(client.locator("#presence")).to_contain_text("vu le")
    client.context.close()


def test_the_thread_without_javascript(app, live_server, browser):
    dossier_id = _setup(app, "nojs")
    client = log_in(browser, live_server, "chat-cli-nojs@example.fr", js=False)
    client.goto(f"{live_server}/messages/dossier/{dossier_id}")
    client.fill("#message-body", "Sans JavaScript aussi")
    client.get_by_role("button", name="Envoyer", exact=True).click()
    expect(client.locator(".message--mine")).to_contain_text("Sans JavaScript aussi")
    client.fill("#message-body", " ")
    client.get_by_role("button", name="Envoyer", exact=True).click()
    expect(client.locator("#message-error")).to_be_visible()
    client.context.close()
