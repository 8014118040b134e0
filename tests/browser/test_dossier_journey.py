"""A dossier from the first upload to the review, in Debian's Chromium, JavaScript on and off:
each party in their own browser, clicking what they see."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import (
    ApprovalStatus,
    Dossier,
    DossierStatus,
    ExpertiseLevel,
    ExpertProduct,
    Invoice,
    Product,
    Review,
    Role,
    User,
)
from tests.browser import log_in
from tests.factories import make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _setup(app, tag: str) -> dict:
    emails = {r: f"{r}-{tag}@journey.fr" for r in ("client", "expert", "admin")}
    make_user(app, Role.ADMIN, email=emails["admin"])
    client_id = make_user(app, Role.CLIENT, email=emails["client"])
    expert_id = make_user(
        app,
        Role.EXPERT,
        email=emails["expert"],
        approval_status=ApprovalStatus.APPROVED,
        first_name="Paul",
        last_name=f"Expert{tag}",
    )
    with app.app_context():
        product = db.session.scalar(db.select(Product).where(Product.code == "TICPE"))
        profile = db.session.get(User, expert_id).expert_profile
        profile.products.append(ExpertProduct(product_id=product.id, level=ExpertiseLevel.EXPERT))
        dossier = Dossier(client_id=client_id, product_id=product.id, estimated_cents=2_000_000)
        db.session.add(dossier)
        db.session.commit()
        return {
            **emails,
            "dossier": dossier.id,
            "labels": list(product.documents["eligibility"]),
            "expert_name": f"Paul Expert{tag}",
        }


def _open(page, base: str, dossier_id: int) -> None:
    page.goto(f"{base}/dossiers/{dossier_id}")
    expect(page.locator("#dossier h1")).to_be_visible()


def _submit(page, button, proof) -> None:
    """Click and wait for the next page (a full load, or htmx's swap of the body), then for
    what the action visibly changed (`proof`). The toast is not the proof: a live refresh
    racing the navigation may show it before the swap."""
    page.evaluate("document.querySelector('main').dataset.old = '1'")
    button.click()
    expect(page.locator("main[data-old]")).to_have_count(0)
    proof()


def _click(page, name: str, label: str | None = None) -> None:
    # the timeline's newest entry names the action, in the button's own words (`label` when
    # the button names more, like the expert chosen)
    _submit(
        page,
        page.get_by_role("button", name=name, exact=True),
        lambda: expect(page.locator("#timeline li").first).to_contain_text(label or name),
    )


def _upload(page, input_id: str, name: str) -> None:
    form = page.locator("form.inline-upload", has=page.locator(f"#{input_id}"))
    form.locator(f"#{input_id}").set_input_files(
        [{"name": name, "mimeType": "application/pdf", "buffer": PDF}]
    )
    _submit(
        page,
        form.get_by_role("button", name="Envoyer"),
        lambda: expect(page.locator("#documents")).to_contain_text(name),
    )


def _status(app, dossier_id) -> DossierStatus:
    with app.app_context():
        return db.session.get(Dossier, dossier_id).status


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_a_dossier_from_upload_to_review(app, live_server, run_jobs, browser, js):
    s = _setup(app, "js" if js else "nojs")
    base, d = live_server, s["dossier"]
    today = date.today().isoformat()

    client = log_in(browser, base, s["client"], js, accept_downloads=True)
    _open(client, base, d)
    for i in range(1, len(s["labels"]) + 1):
        _upload(client, f"upload-eligibility-{i}", f"piece-{i}.pdf")
    _click(client, "Envoyer mes documents pour vérification")
    assert _status(app, d) == DossierStatus.PENDING_ADMIN_VALIDATION

    admin = log_in(browser, base, s["admin"], js, accept_downloads=True)
    _open(admin, base, d)
    _click(admin, "Confirmer l'éligibilité")

    _open(client, base, d)
    expect(client.locator("#experts")).to_contain_text("Recommandé")
    _click(client, f"Choisir {s['expert_name']}", "Choisir cet expert")
    assert _status(app, d) == DossierStatus.EXPERT_PENDING_ACCEPTANCE

    expert = log_in(browser, base, s["expert"], js, accept_downloads=True)
    expect(expert.locator("#to-accept")).to_contain_text("Remboursement TICPE")
    _open(expert, base, d)
    _click(expert, "Accepter le dossier")
    expert.fill("#item-0", "Contrats de location")
    expert.fill("#item-1", "Relevé de flotte")
    _click(expert, "Demander des documents")

    _open(client, base, d)
    expect(client.locator("#documents")).to_contain_text("Contrats de location")
    _upload(client, "upload-complementary-1", "contrats.pdf")
    _upload(client, "upload-complementary-2", "flotte.pdf")
    _click(client, "Envoyer les documents demandés")

    _open(expert, base, d)
    _click(expert, "Valider les documents")
    _click(expert, "Commencer l'audit")
    expert.fill("#final-amount", "15 000")
    expert.fill("#audit-report", "Trois ans de gazole professionnel, 15 000 € récupérables.")
    _click(expert, "Envoyer l'audit au client")

    _open(client, base, d)
    expect(client.locator("#next")).to_contain_text("15 000")
    _click(client, "Accepter l'audit et ses honoraires")

    _open(expert, base, d)
    expert.fill("#submitted-on", today)
    expert.fill("#submission-reference", "AR-77")
    expert.fill("#administration", "DGDDI")
    _click(expert, "Enregistrer le dépôt auprès de l'administration")
    expert.get_by_label("Accepté", exact=True).check()
    expert.fill("#decision-amount", "15 000")
    _click(expert, "Enregistrer la décision de l'administration")
    expert.fill("#refund-amount", "15 000")
    expert.fill("#refunded-on", today)
    _click(expert, "Confirmer le versement du remboursement")
    run_jobs()  # the invoice PDF is built by a worker

    _open(client, base, d)
    expect(client.locator("#next")).to_contain_text(re.compile(r"Facture FT-\d{4}-\d{5}"))
    _click(client, "J'ai payé les honoraires de l'expert")
    _open(expert, base, d)
    _click(expert, "Confirmer la réception des honoraires")

    _open(client, base, d)
    client.locator("#review").get_by_label("5 sur 5").check()
    client.fill("#review-text", "Réactif et précis.")
    _submit(
        client,
        client.get_by_role("button", name="Publier mon avis"),
        lambda: expect(client.locator("#review")).to_contain_text("Réactif et précis."),
    )

    assert _status(app, d) == DossierStatus.COMPLETED
    with app.app_context():
        assert db.session.scalar(db.select(Invoice.number).where(Invoice.dossier_id == d))
        assert db.session.scalar(db.select(Review.rating).where(Review.dossier_id == d)) == 5
    for page in (client, admin, expert):
        page.context.close()


def test_a_live_refresh_keeps_a_chosen_file(app, live_server, browser):
    """The dossier refreshes itself on `dossier:changed`, but not over a file the user has just
    chosen (nor text being typed): the refresh waits, the choice stays."""
    from app.realtime import notify

    s = _setup(app, "keep")
    client = log_in(browser, live_server, s["client"], True, accept_downloads=True)
    _open(client, live_server, s["dossier"])
    expect(client.locator("html[data-live=on]")).to_have_count(1)
    client.locator("#upload-eligibility-1").set_input_files(
        [{"name": "kbis.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).where(User.email == s["client"]))
    url = re.compile(rf"/dossiers/{s['dossier']}$")
    with client.expect_response(url):  # the refresh is asked for...
        with app.app_context():
            notify.to_user(user_id, "dossier:changed", dossier_id=s["dossier"])
    client.wait_for_timeout(300)  # ...and its answer is not swapped in
    count = "document.querySelector('#upload-eligibility-1').files.length"
    assert client.evaluate(count) == 1
    # ...but the client is told, once, that the dossier changed behind their choice
    notice = client.locator("#toasts .toast", has_text="a changé")
    expect(notice).to_have_count(1)
    with client.expect_response(url):
        with app.app_context():
            notify.to_user(user_id, "dossier:changed", dossier_id=s["dossier"])
    client.wait_for_timeout(300)
    expect(notice).to_have_count(1)
    # with nothing chosen, the same signal does refresh the dossier
    client.locator("#upload-eligibility-1").set_input_files([])
    client.evaluate("document.querySelector('#dossier').dataset.old = '1'")
    with app.app_context():
        notify.to_user(user_id, "dossier:changed", dossier_id=s["dossier"])
    expect(client.locator("#dossier[data-old]")).to_have_count(0)
    client.context.close()
