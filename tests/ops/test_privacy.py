"""Personal data (A12, RGPD): a user downloads a ZIP of all their data and files; asks for
deletion, which an admin confirms or refuses with a reason; the account is anonymised, the
invoices and payments stay; both are audited."""

import io
import json
import zipfile

from app.core import storage
from app.extensions import db
from app.models import (
    AuditLog,
    DataExport,
    DataExportStatus,
    Document,
    DossierStatus,
    ErasureRequest,
    ErasureStatus,
    Invoice,
    Message,
    Notification,
    Role,
    User,
)
from app.services.ops import privacy
from tests.factories import HX, login, make_user, post
from tests.factories.models import (
    gen_dossier,
    gen_expert,
    gen_invoice,
    gen_message,
    gen_notification,
    gen_thread,
    gen_user,
)


def _client_with_a_history(app, email="rgpd@example.fr"):
    """A client with a finished dossier, an uploaded document, a conversation, an invoice."""
    client_id = make_user(app, Role.CLIENT, email=email, first_name="Jeanne", last_name="Martin")
    with app.test_request_context():
        client = db.session.get(User, client_id)
        expert = gen_expert(db.session)
        dossier = gen_dossier(
            db.session, client=client, expert=expert, status=DossierStatus.COMPLETED
        )
        key = storage.save("documents", b"%PDF-1.4 Kbis de Jeanne", "pdf")
        db.session.add(
            Document(
                client_id=client_id,
                dossier_id=dossier.id,
                step="eligibility",
                label="Kbis",
                storage_key=key,
                original_name="kbis.pdf",
                content_type="application/pdf",
                size_bytes=24,
                uploaded_by_id=client_id,
            )
        )
        thread = gen_thread(db.session, dossier=dossier, people=(client, expert))
        gen_message(db.session, thread, client, body="Mon téléphone : 06 12 34 56 78")
        gen_message(db.session, thread, expert, body="Bien reçu, merci")
        gen_notification(db.session, client)
        invoice = gen_invoice(db.session, dossier=dossier)
        invoice.pdf_key = storage.save("invoices", b"%PDF-1.4 facture", "pdf")
        db.session.commit()
        return client_id, invoice.id, expert.id


def test_a_user_downloads_all_their_data_and_files(app, client, run_jobs):
    client_id, invoice_id, _expert = _client_with_a_history(app)
    stranger = make_user(app, Role.CLIENT, email="stranger-rgpd@example.fr")
    login(client, "rgpd@example.fr")
    assert client.get("/account/privacy").status_code == 200
    resp = post(client, "/account/privacy/export")
    assert resp.status_code == 303
    run_jobs()
    page = client.get("/account/privacy", headers=HX | {"HX-Target": "my-exports"})
    body = page.get_data(as_text=True)
    assert body.lstrip().startswith('<section class="card stack" id="my-exports"')
    with app.app_context():
        export = db.session.scalar(db.select(DataExport))
        assert export.status == DataExportStatus.READY and export.expires_at
        export_id = export.id
        assert db.session.scalar(
            db.select(Notification).where(Notification.type == "account_data_export")
        )
    assert f"/account/privacy/exports/{export_id}.zip" in body
    download = client.get(f"/account/privacy/exports/{export_id}.zip")
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    names = set(archive.namelist())
    assert {"data/users.json", "data/dossiers.json", "data/messages.json"} <= names
    assert {"data/client_profiles.json", "data/documents.json", "data/invoices.json"} <= names
    [me] = json.loads(archive.read("data/users.json"))
    assert me["email"] == "rgpd@example.fr" and "password_hash" not in me
    bodies = {m["body"] for m in json.loads(archive.read("data/messages.json"))}
    assert bodies == {"Mon téléphone : 06 12 34 56 78", "Bien reçu, merci"}  # the conversation
    [doc] = [n for n in names if n.startswith("files/documents/")]
    assert archive.read(doc) == b"%PDF-1.4 Kbis de Jeanne"
    assert any(n.startswith("files/invoices/") for n in names)
    assert all("storage_key" not in row for row in json.loads(archive.read("data/documents.json")))
    with app.app_context():
        actions = set(db.session.scalars(db.select(AuditLog.action)))
        assert "privacy.export_requested" in actions
    # someone else's file is not found, nor is it for a visitor
    other = client.application.test_client()
    login(other, "stranger-rgpd@example.fr")
    assert other.get(f"/account/privacy/exports/{export_id}.zip").status_code == 404
    assert stranger
    assert client.application.test_client().get(
        f"/account/privacy/exports/{export_id}.zip"
    ).status_code in (302, 401)
    assert post(client, "/account/privacy/export", csrf=False).status_code == 400


def test_deletion_asked_with_the_password_confirmed_by_an_admin_keeps_the_invoices(
    app, client, smtp
):
    client_id, invoice_id, expert_id = _client_with_a_history(app)
    make_user(app, Role.ADMIN, email="rgpd-admin@example.fr")
    login(client, "rgpd@example.fr")
    wrong = post(client, "/account/privacy/erasure", {"password": "not-it", "reason": "Je pars"})
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "Je pars" in page and "mot de passe" in page
    ok = post(
        client,
        "/account/privacy/erasure",
        {"password": "correct-horse-42", "reason": "Je pars"},
    )
    assert ok.status_code == 303, ok.get_data(as_text=True)[:300]
    with app.app_context():
        [request] = db.session.scalars(db.select(ErasureRequest)).all()
        assert request.status == ErasureStatus.PENDING and request.reason == "Je pars"
        admins_told = db.session.scalar(
            db.select(Notification).where(Notification.type == "account_erasure_requested")
        )
        assert admins_told is not None
        request_id = request.id
    admin = client.application.test_client()
    login(admin, "rgpd-admin@example.fr")
    queue = admin.get("/ops/privacy").get_data(as_text=True)
    assert "Jeanne Martin" in queue and "Je pars" in queue
    assert post(admin, f"/ops/privacy/{request_id}/confirm").status_code == 303
    with app.app_context():
        user = db.session.get(User, client_id)
        assert user.email.endswith("@anonyme.invalid") and not user.active
        assert user.first_name == "Utilisateur" and user.phone is None
        assert user.client_profile.company_name == "Entreprise supprimée"
        mine = db.session.scalar(db.select(Message).where(Message.sender_id == client_id))
        assert mine.body == privacy.ERASED
        theirs = db.session.scalar(db.select(Message).where(Message.sender_id == expert_id))
        assert theirs.body == "Bien reçu, merci"  # the expert's words are the expert's
        doc = db.session.scalar(db.select(Document).where(Document.client_id == client_id))
        assert doc.storage_key == "" and doc.original_name == privacy.ERASED
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice is not None and invoice.client_id == client_id  # the law keeps it
        assert (
            db.session.scalar(
                db.select(db.func.count(Notification.id)).where(Notification.user_id == client_id)
            )
            == 0
        )
        request = db.session.get(ErasureRequest, request_id)
        assert request.status == ErasureStatus.DONE and request.summary["messages"] == 1
        entry = db.session.scalar(
            db.select(AuditLog).where(AuditLog.action == "privacy.erasure_confirmed")
        )
        assert entry is not None
    # their browser is logged out, and the old password opens nothing
    assert client.get("/account/privacy").status_code in (302, 401)
    resp = post(client, "/login", {"email": "rgpd@example.fr", "password": "correct-horse-42"})
    assert resp.status_code != 303


def test_an_admin_refuses_with_a_reason_while_a_dossier_is_in_progress(app, ctx):
    client = gen_user(ctx, Role.CLIENT, email="busy@example.fr")
    admin = gen_user(ctx, Role.ADMIN, email="busy-admin@example.fr")
    gen_dossier(ctx, client=client, status=DossierStatus.AUDIT_IN_PROGRESS)
    ctx.commit()
    request = privacy.request_erasure(client, "correct-horse-42", "")
    import pytest

    from app.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="1 dossier"):
        privacy.confirm(admin, request.id)
    with pytest.raises(ValidationFailed):
        privacy.refuse(admin, request.id, "  ")  # a reason is needed
    privacy.refuse(admin, request.id, "Votre dossier TICPE est en cours d'audit.")
    assert request.status == ErasureStatus.REFUSED
    told = ctx.scalar(
        db.select(Notification).where(
            Notification.user_id == client.id, Notification.type == "account_erasure_refused"
        )
    )
    assert "audit" in told.body
    assert ctx.get(User, client.id).email == "busy@example.fr"  # nothing erased


def _erasure_asked(app, client, email: str, staff_role: Role):
    """`client` signs in as a new user of `email` and asks to be erased; returns the request's
    id and a second browser signed in as a new staff member of `staff_role`."""
    make_user(app, Role.CLIENT, email=email)
    staff_email = email.replace("@", "-staff@")
    make_user(app, staff_role, email=staff_email)
    login(client, email)
    post(client, "/account/privacy/erasure", {"password": "correct-horse-42"})
    with app.app_context():
        request_id = db.session.scalar(db.select(ErasureRequest.id))
    staff = client.application.test_client()
    login(staff, staff_email)
    return request_id, staff


def test_the_user_may_withdraw_and_only_admins_decide(app, client):
    request_id, support = _erasure_asked(app, client, "withdraw@example.fr", Role.SUPPORT)
    assert support.get("/ops/privacy").status_code == 403
    assert post(support, f"/ops/privacy/{request_id}/confirm").status_code == 403
    assert post(client, "/account/privacy/erasure/cancel").status_code == 303
    with app.app_context():
        assert db.session.get(ErasureRequest, request_id).status == ErasureStatus.CANCELLED


def test_over_http_a_refusal_without_a_reason_comes_back_and_one_with_it_is_told(app, client):
    request_id, admin = _erasure_asked(app, client, "http-refuse@example.fr", Role.ADMIN)
    resp = post(admin, f"/ops/privacy/{request_id}/refuse", {"note": "   "})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert f'id="problem-{request_id}"' in page and 'aria-invalid="true"' in page
    with app.app_context():
        assert db.session.get(ErasureRequest, request_id).status == ErasureStatus.PENDING
    note = "Un dossier reste à facturer."
    resp = post(admin, f"/ops/privacy/{request_id}/refuse", {"note": note})
    assert resp.status_code == 303 and resp.location.endswith("/ops/privacy")
    with app.app_context():
        request = db.session.get(ErasureRequest, request_id)
        assert request.status == ErasureStatus.REFUSED and request.decision_note == note
    stranger = client.application.test_client()
    assert post(stranger, f"/ops/privacy/{request_id}/refuse", {"note": note}).status_code in (
        302,
        303,
    )
