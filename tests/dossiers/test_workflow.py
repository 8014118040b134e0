"""The dossier workflow end to end over HTTP, the transition table, uploads and authorisation."""

import io
import re
from datetime import date, timedelta

import pytest
from flask_babel import gettext as _
from pypdf import PdfReader

from app.core import clock, storage
from app.extensions import db
from app.models import (
    ApprovalStatus,
    Document,
    DocumentAccess,
    DocumentRequestItem,
    DocumentStatus,
    Dossier,
    DossierEvent,
    DossierStatus,
    ExpertiseLevel,
    ExpertProduct,
    Invoice,
    Party,
    Product,
    Role,
    User,
)
from app.services import workflow
from tests.factories import login, make_user, post

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def _files(*items):
    return [(io.BytesIO(data), name) for name, data in items]


@pytest.fixture
def parties(app):
    """A client with a TICPE dossier, an approved expert holding TICPE, an admin."""
    client_id = make_user(app, Role.CLIENT, email="client@example.fr")
    expert_id = make_user(
        app, Role.EXPERT, email="expert@example.fr", approval_status=ApprovalStatus.APPROVED
    )
    admin_id = make_user(app, Role.ADMIN, email="admin@example.fr")
    with app.app_context():
        product = db.session.scalar(db.select(Product).where(Product.code == "TICPE"))
        expert = db.session.get(User, expert_id)
        expert.expert_profile.years_experience = 12
        db.session.add(
            ExpertProduct(
                expert_id=expert.expert_profile.id,
                product_id=product.id,
                level=ExpertiseLevel.EXPERT,
            )
        )
        dossier = Dossier(client_id=client_id, product_id=product.id, estimated_cents=1_000_000)
        db.session.add(dossier)
        db.session.commit()
        return {
            "client": client_id,
            "expert": expert_id,
            "admin": admin_id,
            "dossier": dossier.id,
            "labels": list(product.documents["eligibility"]),
        }


def _put(app, dossier_id: int, status: DossierStatus, **fields) -> int:
    """Put a dossier straight into `status` (and set `fields`), committed; returns its
    version."""
    with app.app_context():
        dossier = db.session.get(Dossier, dossier_id)
        dossier.status = status
        for name, value in fields.items():
            setattr(dossier, name, value)
        db.session.commit()
        return dossier.version


def _audit_in_progress(app, parties) -> int:
    """The dossier at the audit, with the expert holding it."""
    _put(app, parties["dossier"], DossierStatus.AUDIT_IN_PROGRESS, expert_id=parties["expert"])
    return parties["dossier"]


def _audited_then_refused_unannounced(app, parties) -> int:
    """The expert completes the audit, the client refuses it, and both announcement jobs are
    lost (Redis flushed, say)."""
    d = _audit_in_progress(app, parties)
    with app.test_request_context():
        expert = db.session.get(User, parties["expert"])
        workflow.transition(d, "complete_audit", expert, final_amount="9000", report="R")
        client_user = db.session.get(User, parties["client"])
        workflow.transition(d, "reject_audit", client_user, reason="Trop bas")
        assert workflow.unannounced_events() == []  # too fresh: their jobs may still run
    app.extensions["rq"]["high"].empty()
    return d


def _two_minutes_later():
    return clock.shifted(timedelta(minutes=2))


def _dossier(app, dossier_id) -> Dossier:
    with app.app_context():
        d = db.session.get(Dossier, dossier_id)
        db.session.expunge(d)
        return d


def _act(client, dossier_id, action, **data):
    return post(client, f"/dossiers/{dossier_id}/actions/{action}", data)


def _upload(client, dossier_id, step, label, *files, **extra):
    return post(
        client,
        f"/dossiers/{dossier_id}/documents",
        {"step": step, "label": label, "files": _files(*files), **extra},
        content_type="multipart/form-data",
    )


def test_the_whole_journey_from_upload_to_invoice(app, client, parties, run_jobs, smtp):
    d = parties["dossier"]
    login(client, "client@example.fr")
    page = client.get(f"/dossiers/{d}").get_data(as_text=True)
    assert "Documents" in page and 'aria-current="step"' in page

    # sending before the checklist is complete is refused with what is missing
    resp = _act(client, d, "submit_documents")
    assert resp.status_code == 409
    assert "Cartes grises" in resp.get_data(as_text=True)

    for i, label in enumerate(parties["labels"]):
        resp = _upload(client, d, "eligibility", label, (f"piece{i}.pdf", PDF), ("photo.png", PNG))
        assert resp.status_code == 303, resp.get_data(as_text=True)[:400]
    resp = _act(client, d, "submit_documents")
    assert resp.status_code == 303, re.findall(
        r'toast__text">([^<]*)<', resp.get_data(as_text=True)
    )
    assert _dossier(app, d).status == DossierStatus.PENDING_ADMIN_VALIDATION
    assert _dossier(app, d).waiting_on == Party.ADMIN

    client.post("/logout", data={})
    login(client, "admin@example.fr")
    resp = _act(client, d, "validate_eligibility", version=_dossier(app, d).version)
    assert resp.status_code == 303
    with app.app_context():
        statuses = set(db.session.scalars(db.select(Document.status)))
    assert statuses == {DocumentStatus.VALIDATED}
    # the admin may propose or assign the expert from a list of those who may take it
    page = client.get(f"/dossiers/{d}").get_data(as_text=True)
    assert f'<option value="{parties["expert"]}"' in page

    client.post("/logout", data={})
    login(client, "client@example.fr")
    page = client.get(f"/dossiers/{d}").get_data(as_text=True)
    assert "Recommended" in page or "Recommandé" in page
    assert f'name="expert_id" value="{parties["expert"]}"' in page
    assert _act(client, d, "select_expert", expert_id=parties["expert"]).status_code == 303
    assert _dossier(app, d).pending_expert_id == parties["expert"]
    assert _dossier(app, d).expert_deadline_at is not None

    client.post("/logout", data={})
    login(client, "expert@example.fr")
    assert _act(client, d, "accept").status_code == 303
    resp = _act(
        client,
        d,
        "request_documents",
        items=["Contrats de location", "Relevé de flotte"],
        required=["0", "1"],
        message="Merci",
    )
    assert resp.status_code == 303
    # the expert opened a company document: the client will see it
    with app.app_context():
        doc_id = db.session.scalar(db.select(Document.id).order_by(Document.id))
    assert client.get(f"/dossiers/documents/{doc_id}").status_code == 200

    client.post("/logout", data={})
    login(client, "client@example.fr")
    page = client.get(f"/dossiers/{d}").get_data(as_text=True)
    assert "Contrats de location" in page
    assert "Viewed by your expert" in page or "Consulté par votre expert" in page
    with app.app_context():
        items = [
            (i.id, i.label)
            for i in db.session.scalars(
                db.select(DocumentRequestItem).order_by(DocumentRequestItem.id)
            )
        ]
    for item_id, label in items:
        resp = _upload(
            client, d, "complementary", label, ("doc.pdf", PDF), request_item_id=str(item_id)
        )
        assert resp.status_code == 303
    assert _act(client, d, "send_documents").status_code == 303

    client.post("/logout", data={})
    login(client, "expert@example.fr")
    assert _act(client, d, "validate_documents").status_code == 303
    assert _act(client, d, "start_audit").status_code == 303
    resp = _act(client, d, "complete_audit", final_amount="", report="")
    assert resp.status_code == 422
    resp = _act(
        client, d, "complete_audit", final_amount="15 000", report="Rapport", fee_percent="45"
    )
    assert resp.status_code == 422 and 'value="15 000"' in resp.get_data(as_text=True)
    resp = _act(client, d, "complete_audit", final_amount="15 000", report="Rapport complet")
    assert resp.status_code == 303

    client.post("/logout", data={})
    login(client, "client@example.fr")
    assert _act(client, d, "validate_audit").status_code == 303
    snap = _dossier(app, d)
    assert (snap.client_fee_bp, snap.platform_fee_bp, snap.referrer_share_bp) == (3000, 3000, 1000)

    client.post("/logout", data={})
    login(client, "expert@example.fr")
    today = date.today().isoformat()
    resp = _act(client, d, "submit", submitted_on=today, reference="AR-1", administration="DGDDI")
    assert resp.status_code == 303
    resp = _act(client, d, "record_decision", decision="accepted", amount="15000")
    assert resp.status_code == 303
    resp = _act(client, d, "confirm_refund", amount="15 000", refunded_on=today, reference="VIR")
    assert resp.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Invoice)) is None  # the worker builds it
    run_jobs()
    with app.app_context():
        invoice = db.session.scalar(db.select(Invoice))
        assert invoice.number == f"FT-{date.today().year}-00001"
        assert (invoice.client_fee_cents, invoice.platform_fee_cents) == (450_000, 135_000)
        assert (invoice.vat_cents, invoice.total_cents) == (27_000, 162_000)
        invoice_id = invoice.id
    invoice_mails = [m for m in smtp.to("expert@example.fr") if "facture" in m["Subject"].lower()]
    text_body = smtp.body(invoice_mails[0]).replace("\u202f", " ").replace("\xa0", " ")
    assert "1 620" in text_body
    pdf = client.get(f"/dossiers/invoices/{invoice_id}.pdf")
    assert pdf.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    text = text.replace("\u202f", " ").replace("\xa0", " ")
    assert "FT-" in text and "1 350" in text and "1 620" in text

    client.post("/logout", data={})
    login(client, "client@example.fr")
    assert _act(client, d, "declare_fee_paid").status_code == 303
    client.post("/logout", data={})
    login(client, "expert@example.fr")
    assert _act(client, d, "confirm_fee_received").status_code == 303
    assert _dossier(app, d).status == DossierStatus.COMPLETED
    with app.app_context():
        actions = list(db.session.scalars(db.select(DossierEvent.action)))
    assert "confirm_refund" in actions and "documents_uploaded" in actions


def test_a_stale_version_gets_the_current_state_and_a_clear_message(app, client, parties):
    d = parties["dossier"]
    stale = _put(app, d, DossierStatus.PENDING_ADMIN_VALIDATION)
    login(client, "admin@example.fr")
    assert _act(client, d, "validate_eligibility", version=stale).status_code == 303
    resp = _act(client, d, "reject_eligibility", version=stale, reason="Kbis illisible")
    assert resp.status_code == 409
    assert _dossier(app, d).status == DossierStatus.ADMIN_VALIDATED


def test_concurrent_writers_one_wins(app, parties):
    """Two sessions read the same version; the second commit loses with a Conflict."""
    from sqlalchemy.orm import Session

    from app.core.errors import Conflict

    d = parties["dossier"]
    with app.test_request_context():
        dossier = db.session.get(Dossier, d)
        dossier.status = DossierStatus.PENDING_ADMIN_VALIDATION
        db.session.commit()
        with Session(db.engine) as other:
            twin = other.get(Dossier, d)
            twin.status = DossierStatus.ON_HOLD
            other.commit()
        admin = db.session.get(User, parties["admin"])
        db.session.expire_all()
        dossier = db.session.get(Dossier, d)
        # the other writer's change is seen: the action is refused for the current status
        with pytest.raises(Conflict):
            workflow.transition(d, "validate_eligibility", admin)


def test_a_writer_that_loses_the_race_leaves_no_row_behind(app, parties):
    """The event and the document request are written before the dossier's versioned UPDATE:
    when that UPDATE finds another writer's version, they go with the rollback."""
    from sqlalchemy.orm import Session

    from app.core.errors import Conflict
    from app.models import DocumentRequest, DossierEvent

    d = parties["dossier"]
    _put(app, d, DossierStatus.EXPERT_ASSIGNED, expert_id=parties["expert"])
    with app.test_request_context():
        expert = db.session.get(User, parties["expert"])
        # this session holds the current version (a reference keeps it in the identity map)
        held = db.session.get(Dossier, d)
        read = held.version
        with Session(db.engine) as other:  # someone else moves it on meanwhile
            twin = other.get(Dossier, d)
            twin.estimated_cents += 1
            other.commit()
        events = db.select(db.func.count(DossierEvent.id)).where(DossierEvent.dossier_id == d)
        before = db.session.scalar(events)
        with pytest.raises(Conflict, match="modifié ce dossier entre-temps"):
            workflow.transition(d, "request_documents", expert, items=["Relevé"], required=[])
        assert db.session.scalar(events) == before
        requests = db.select(db.func.count(DocumentRequest.id)).where(
            DocumentRequest.dossier_id == d
        )
        assert db.session.scalar(requests) == 0
    assert _dossier(app, d).version == read + 1  # only the other writer's change landed


RELATIONS = ("client", "expert", "pending_expert", "admin", "stranger")


@pytest.mark.parametrize("code", ["TICPE", "CHRONO"])
@pytest.mark.parametrize("action", sorted(workflow.ACTIONS))
def test_every_status_action_role_triple(app, parties, action, code):
    """Allowed exactly when the product's flow, the actor's relation and the status are in the
    table; a refusal is a sentence (guards may still refuse an allowed triple, with their own)."""
    spec = workflow.ACTIONS[action]
    with app.test_request_context():
        role_msg = _("This action is not yours to take on this dossier.")
        flow_msg = _("This step does not exist for this product.")
        # users first: make_user commits on its own connection (SQLite allows one writer)
        stranger_id, pending_id = make_user(app, Role.EXPERT), make_user(app, Role.EXPERT)
        people = {
            "client": db.session.get(User, parties["client"]),
            "expert": db.session.get(User, parties["expert"]),
            "pending_expert": db.session.get(User, pending_id),
            "admin": db.session.get(User, parties["admin"]),
            "stranger": db.session.get(User, stranger_id),
        }
        dossier = db.session.get(Dossier, parties["dossier"])
        dossier.product = db.session.scalar(db.select(Product).where(Product.code == code))
        flow = workflow.flow_of(dossier)
        dossier.expert_id = people["expert"].id
        dossier.pending_expert_id = people["pending_expert"].id
        for status in DossierStatus:
            dossier.status = status
            for relation in RELATIONS:
                why = workflow.refusal(dossier, spec, people[relation])
                allowed = flow in spec.flows and relation in spec.who and status in spec.sources
                if flow not in spec.flows:
                    assert why == flow_msg, (action, status, relation)
                elif relation not in spec.who:
                    assert why == role_msg, (action, status, relation)
                elif status not in spec.sources:
                    assert why and why not in (role_msg, flow_msg), (action, status, relation)
                else:  # allowed by the table; a guard may still say what is missing
                    assert why is None or why not in (role_msg, flow_msg), (action, status)
                assert (why is None) <= allowed
        db.session.rollback()


def test_a_stranger_gets_404_everywhere(app, client, parties):
    d = parties["dossier"]
    login(client, "client@example.fr")
    _upload(client, d, "eligibility", parties["labels"][0], ("kbis.pdf", PDF))
    with app.app_context():
        doc_id = db.session.scalar(db.select(Document.id))
    client.post("/logout", data={})
    make_user(app, Role.CLIENT, email="other@example.fr")
    login(client, "other@example.fr")
    assert client.get(f"/dossiers/{d}").status_code == 404
    assert _act(client, d, "submit_documents").status_code == 404
    assert client.get(f"/dossiers/documents/{doc_id}").status_code == 404
    assert (
        post(client, f"/dossiers/documents/{doc_id}/review", {"decision": "validate"}).status_code
        == 404
    )
    assert (
        _upload(client, d, "eligibility", parties["labels"][1], ("x.pdf", PDF)).status_code == 404
    )
    assert client.get("/dossiers/invoices/1.pdf").status_code == 404
    assert f"/dossiers/{d}" not in client.get("/dossiers/").get_data(as_text=True)


def test_uploads_are_checked_by_content_and_the_batch_keeps_good_files(app, client, parties):
    d = parties["dossier"]
    label = parties["labels"][1]
    login(client, "client@example.fr")
    resp = _upload(
        client,
        d,
        "eligibility",
        label,
        ("facture.exe", PDF),  # a PDF with a wrong name: its content decides
        ("virus.pdf", EXE),
        ("vide.pdf", b""),
        ("../../etc/passwd", PNG),
    )
    assert resp.status_code == 303
    with app.app_context():
        docs = list(db.session.scalars(db.select(Document).order_by(Document.id)))
        names = [(doc.original_name, doc.content_type) for doc in docs]
        for doc in docs:
            assert storage.path_of(doc.storage_key).is_file()
            assert ".." not in doc.storage_key
    assert names == [("facture.exe", "application/pdf"), ("passwd", "image/png")]
    page = client.get(f"/dossiers/{d}").get_data(as_text=True)
    assert "virus.pdf" in page and "vide.pdf" in page  # each refusal named in a toast


def test_an_oversized_file_is_refused_and_nothing_is_kept(app, client, parties, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_MB", 1)
    d = parties["dossier"]
    login(client, "client@example.fr")
    big = PDF + b"0" * (1024 * 1024)
    resp = _upload(client, d, "eligibility", parties["labels"][1], ("gros.pdf", big))
    assert resp.status_code == 422
    assert "1 MB" in resp.get_data(as_text=True) or "1 Mo" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Document.id))) == 0


def test_admin_rejects_a_document_then_the_client_replaces_it(app, client, parties):
    d = parties["dossier"]
    login(client, "client@example.fr")
    for label in parties["labels"]:
        _upload(client, d, "eligibility", label, ("a.pdf", PDF))
    _act(client, d, "submit_documents")
    client.post("/logout", data={})
    login(client, "admin@example.fr")
    with app.app_context():
        doc_id = db.session.scalar(db.select(Document.id).order_by(Document.id))
    resp = post(
        client, f"/dossiers/documents/{doc_id}/review", {"decision": "reject", "dossier_id": d}
    )
    assert resp.status_code == 422  # a refusal needs a reason
    resp = post(
        client,
        f"/dossiers/documents/{doc_id}/review",
        {"decision": "reject", "reason": "Illisible", "dossier_id": d},
    )
    assert resp.status_code == 303
    assert _act(client, d, "validate_eligibility").status_code == 409  # a file is refused
    assert _act(client, d, "reject_eligibility", reason="Kbis illisible").status_code == 303
    client.post("/logout", data={})
    login(client, "client@example.fr")
    assert "Illisible" in client.get(f"/dossiers/{d}").get_data(as_text=True)
    resp = _upload(client, d, "eligibility", "", ("b.pdf", PDF), replaces=str(doc_id))
    assert resp.status_code == 303
    with app.app_context():
        new = db.session.scalar(db.select(Document).where(Document.parent_id == doc_id))
        assert new.version == 2
        assert db.session.get(Document, doc_id).superseded_at is not None
    assert _act(client, d, "submit_documents").status_code == 303


def test_an_expert_who_does_not_hold_the_product_is_never_offered(app, client, parties):
    other = make_user(app, Role.EXPERT, approval_status=ApprovalStatus.APPROVED)
    d = parties["dossier"]
    with app.app_context():
        db.session.get(Dossier, d).status = DossierStatus.ADMIN_VALIDATED
        db.session.commit()
    login(client, "client@example.fr")
    page = client.get(f"/dossiers/{d}").get_data(as_text=True)
    assert f'name="expert_id" value="{parties["expert"]}"' in page
    assert f'name="expert_id" value="{other}"' not in page
    resp = _act(client, d, "select_expert", expert_id=other)
    assert resp.status_code == 422
    assert _dossier(app, d).status == DossierStatus.ADMIN_VALIDATED


def test_an_expert_refuses_with_a_reason_and_loses_sight_of_the_dossier(app, client, parties):
    d = parties["dossier"]
    _put(app, d, DossierStatus.EXPERT_PENDING_ACCEPTANCE, pending_expert_id=parties["expert"])
    login(client, "expert@example.fr")
    assert _act(client, d, "refuse").status_code == 422
    assert _act(client, d, "refuse", reason="Complet ce mois-ci").status_code == 303
    assert _dossier(app, d).status == DossierStatus.ADMIN_VALIDATED
    assert client.get(f"/dossiers/{d}").status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(DocumentAccess.id)) is None


def test_without_javascript_the_page_is_plain_forms(app, client, parties):
    d = parties["dossier"]
    login(client, "client@example.fr")
    html = client.get(f"/dossiers/{d}").get_data(as_text=True)
    forms = re.findall(r"<form [^>]*>", html)
    assert any('enctype="multipart/form-data"' in f for f in forms)
    assert 'accept="image/*,application/pdf" capture' in html
    assert all('method="post"' in f or 'method="get"' in f for f in forms)


def test_an_expert_sets_their_offer_and_bad_values_come_back(app, client):
    make_user(app, Role.EXPERT, email="neo@example.fr", approval_status=ApprovalStatus.APPROVED)
    login(client, "neo@example.fr")
    with app.app_context():
        ticpe = db.session.scalar(db.select(Product.id).where(Product.code == "TICPE"))
    assert client.get("/account/expertise").status_code == 200
    resp = post(
        client,
        "/account/expertise",
        {
            "products": [str(ticpe)],
            f"level-{ticpe}": "advanced",
            "fee_percent": "45",
            "capacity": "0",
        },
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'value="45"' in html and 'id="capacity-error"' in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ExpertProduct.id))) == 0
    resp = post(
        client,
        "/account/expertise",
        {
            "products": [str(ticpe)],
            f"level-{ticpe}": "advanced",
            "fee_percent": "25,5",
            "capacity": "8",
            "available": "on",
        },
    )
    assert resp.status_code == 303
    with app.app_context():
        held = db.session.scalar(db.select(ExpertProduct))
        assert (held.product_id, held.level) == (ticpe, ExpertiseLevel.ADVANCED)
        assert held.expert.fee_bp == 2550 and held.expert.capacity == 8


def test_dashboards_show_what_waits_for_each_party(app, client, parties):
    d = parties["dossier"]
    with app.app_context():
        dossier = db.session.get(Dossier, d)
        dossier.status = DossierStatus.EXPERT_PENDING_ACCEPTANCE
        dossier.pending_expert_id = parties["expert"]
        dossier.waiting_on = Party.EXPERT
        from datetime import timedelta

        from app.models import utcnow

        dossier.expert_deadline_at = utcnow() + timedelta(hours=47, minutes=30)
        other = Dossier(client_id=parties["client"], product_id=dossier.product_id + 1)
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    login(client, "expert@example.fr")
    html = client.get("/dashboard").get_data(as_text=True)
    assert f"/dossiers/{d}#next" in html and "47" in html
    client.post("/logout", data={})
    login(client, "client@example.fr")
    html = client.get("/dashboard").get_data(as_text=True)
    assert f"/dossiers/{other_id}#next" in html  # documents to send: the client's turn
    assert f"/dossiers/{d}#next" not in html
    client.post("/logout", data={})
    login(client, "admin@example.fr")
    html = client.get("/dossiers/?status=expert_pending_acceptance").get_data(as_text=True)
    assert f'/dossiers/{d}"' in html and f'/dossiers/{other_id}"' not in html


def test_a_partner_product_follows_the_quote_flow(app, client, parties):
    """domain.md §4: one document, the specific questions, routed to the distributor, a quote the
    client questions, refuses, then accepts, and the installation closes the dossier."""
    distributor = make_user(
        app, Role.EXPERT, email="chrono@example.fr", approval_status=ApprovalStatus.APPROVED
    )
    with app.app_context():
        chrono = db.session.scalar(db.select(Product).where(Product.code == "CHRONO"))
        profile = db.session.get(User, distributor).expert_profile
        profile.products.append(ExpertProduct(product_id=chrono.id, distributor=True))
        dossier = Dossier(client_id=parties["client"], product_id=chrono.id)
        db.session.add(dossier)
        db.session.commit()
        d, label = dossier.id, chrono.documents["eligibility"][0]
    login(client, "client@example.fr")
    assert _act(client, d, "submit_documents").status_code == 409  # not this product's flow
    assert (
        _act(client, d, "request_quote", fleet="3", equipped="0", installations="3").status_code
        == 409
    )
    assert _upload(client, d, "eligibility", label, ("carte-grise.pdf", PDF)).status_code == 303
    html = client.get(f"/dossiers/{d}").get_data(as_text=True)
    assert 'name="fleet"' in html and "Vérifications initiales" in html
    resp = _act(client, d, "request_quote", fleet="3", equipped="x", installations="3")
    assert resp.status_code == 422 and 'value="x"' in resp.get_data(as_text=True)
    assert (
        _act(client, d, "request_quote", fleet="3", equipped="0", installations="3").status_code
        == 303
    )
    snap = _dossier(app, d)
    assert snap.status == DossierStatus.QUOTE_REQUESTED and snap.expert_id == distributor
    assert snap.quote_answers == {"fleet": 3, "equipped": 0, "installations": 3}

    client.post("/logout", data={})
    login(client, "chrono@example.fr")
    assert _act(client, d, "propose_quote", amount="2 400", details="3 boîtiers").status_code == 303
    client.post("/logout", data={})
    login(client, "client@example.fr")
    assert _act(client, d, "comment_quote", comment="Pose incluse ?").status_code == 303
    assert _act(client, d, "reject_quote", reason="Trop cher").status_code == 303
    client.post("/logout", data={})
    login(client, "chrono@example.fr")
    assert (
        _act(client, d, "propose_quote", amount="2 100", details="Pose incluse").status_code == 303
    )
    client.post("/logout", data={})
    login(client, "client@example.fr")
    assert _act(client, d, "accept_quote").status_code == 303
    client.post("/logout", data={})
    login(client, "chrono@example.fr")
    assert _act(client, d, "complete_installation").status_code == 303
    snap = _dossier(app, d)
    assert snap.status == DossierStatus.COMPLETED and snap.quote_cents == 210_000


def test_an_unanswered_selection_expires_after_48_hours(app, parties, run_jobs):
    from datetime import timedelta

    from app.core.jobs import enqueue
    from app.models import Notification, utcnow

    d = parties["dossier"]
    with app.app_context():
        dossier = db.session.get(Dossier, d)
        dossier.status = DossierStatus.EXPERT_PENDING_ACCEPTANCE
        dossier.pending_expert_id = parties["expert"]
        dossier.expert_deadline_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        enqueue("default", "app.services.workflow.jobs.expire_expert_acceptances")
    run_jobs()
    snap = _dossier(app, d)
    assert snap.status == DossierStatus.ADMIN_VALIDATED and snap.pending_expert_id is None
    assert snap.waiting_on == Party.CLIENT
    with app.app_context():
        told = set(
            db.session.scalars(
                db.select(Notification.user_id).where(
                    Notification.type == "expert_acceptance_expired"
                )
            )
        )
        assert told == {parties["client"], parties["expert"]}
        assert db.session.scalar(
            db.select(DossierEvent.action).where(DossierEvent.action == "acceptance_expired")
        )


def test_each_kind_of_document_has_its_size_limit(app, client, parties):
    d = parties["dossier"]
    rib = next(label for label in parties["labels"] if label.startswith("RIB"))
    login(client, "client@example.fr")
    six_mb = PDF + b"0" * (6 * 1024 * 1024)
    resp = _upload(client, d, "eligibility", rib, ("rib.pdf", six_mb))
    assert resp.status_code == 422 and "5 Mo" in resp.get_data(as_text=True)
    fuel = next(label for label in parties["labels"] if label.startswith("Factures"))
    assert _upload(client, d, "eligibility", fuel, ("carburant.pdf", six_mb)).status_code == 303


def test_the_expert_attaches_the_audit_report_and_the_client_can_read_it(app, client, parties):
    d = _audit_in_progress(app, parties)
    login(client, "client@example.fr")
    assert _upload(client, d, "audit", "Rapport", ("rapport.pdf", PDF)).status_code == 409
    client.post("/logout", data={})
    login(client, "expert@example.fr")
    resp = _upload(client, d, "audit", "", ("rapport.pdf", PDF))
    assert resp.status_code == 422  # the files need a description
    assert _upload(client, d, "audit", "Rapport d'audit", ("rapport.pdf", PDF)).status_code == 303
    client.post("/logout", data={})
    login(client, "client@example.fr")
    html = client.get(f"/dossiers/{d}").get_data(as_text=True)
    assert "rapport.pdf" in html and "Rapport d&#39;audit" in html


def test_the_expert_dashboard_orders_active_dossiers_by_closing_score(app, client, parties):
    from datetime import timedelta

    from app.models import utcnow
    from app.services.dossiers import closing_score

    with app.app_context():
        product_ids = db.session.scalars(db.select(Product.id).order_by(Product.id)).all()
        fresh = Dossier(
            client_id=parties["client"],
            product_id=product_ids[1],
            expert_id=parties["expert"],
            status=DossierStatus.DOCUMENTS_REQUESTED,
            waiting_on=Party.CLIENT,
            estimated_cents=100_000,
        )
        stale = Dossier(
            client_id=parties["client"],
            product_id=product_ids[2],
            expert_id=parties["expert"],
            status=DossierStatus.AUDIT_IN_PROGRESS,
            waiting_on=Party.EXPERT,
            waiting_since=utcnow() - timedelta(days=9),
            estimated_cents=6_000_000,
        )
        db.session.add_all([fresh, stale])
        db.session.commit()
        # urgency 40 + value 30 + probability 11 + ease 10; 10 + 10 + 8 + 0
        assert (closing_score(stale), closing_score(fresh)) == (91, 28)
        ids = (stale.id, fresh.id)
    login(client, "expert@example.fr")
    html = client.get("/dashboard").get_data(as_text=True)
    assert html.index(f'/dossiers/{ids[0]}"') < html.index(f'/dossiers/{ids[1]}"')


def test_a_missing_rate_alerts_admins_instead_of_a_zero_invoice(app, client, parties, run_jobs):
    from app.models import Notification

    d = parties["dossier"]
    with app.app_context():
        dossier = db.session.get(Dossier, d)
        dossier.status = DossierStatus.REFUND_CONFIRMED
        dossier.expert_id = parties["expert"]
        dossier.obtained_cents = 1_000_000
        dossier.client_fee_bp, dossier.platform_fee_bp, dossier.referrer_share_bp = 3000, None, 1000
        db.session.commit()
    login(client, "admin@example.fr")
    assert post(client, f"/dossiers/{d}/invoice").status_code == 303
    run_jobs()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Invoice.id))) == 0
        alert = db.session.scalar(
            db.select(Notification).where(Notification.type == "invoice_error")
        )
        assert alert.user_id == parties["admin"] and alert.priority.value == "urgent"
        db.session.get(Dossier, d).platform_fee_bp = 3000  # an admin fixes the rate
        db.session.commit()
    assert post(client, f"/dossiers/{d}/invoice").status_code == 303
    run_jobs()
    with app.app_context():
        invoice = db.session.scalar(db.select(Invoice))
        assert (invoice.client_fee_cents, invoice.platform_fee_cents) == (300_000, 90_000)
    client.post("/logout", data={})
    login(client, "client@example.fr")
    assert post(client, f"/dossiers/{d}/invoice").status_code == 403  # admins only


def test_the_experts_load_follows_transitions(app, parties):
    def load():
        with app.app_context():
            return db.session.get(User, parties["expert"]).expert_profile.active_dossiers

    d = parties["dossier"]
    _put(app, d, DossierStatus.EXPERT_PENDING_ACCEPTANCE, pending_expert_id=parties["expert"])
    with app.test_request_context():
        workflow.transition(d, "accept", db.session.get(User, parties["expert"]))
    assert load() == 1
    with app.test_request_context():
        workflow.transition(d, "hold", db.session.get(User, parties["admin"]), reason="Pause")
    assert load() == 0
    with app.test_request_context():
        workflow.transition(d, "resume", db.session.get(User, parties["admin"]))
    assert load() == 1
    with app.test_request_context():
        workflow.transition(d, "cancel", db.session.get(User, parties["admin"]), reason="Fin")
    assert load() == 0
    with app.app_context():
        assert workflow.recount_loads() == 0  # the counter never drifted


def test_a_request_too_large_for_the_server_gets_a_clear_page(app, client, parties, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    login(client, "client@example.fr")
    resp = _upload(
        client, parties["dossier"], "eligibility", parties["labels"][1], ("a.pdf", PDF * 40)
    )
    assert resp.status_code == 413 and "Fichiers trop volumineux" in resp.get_data(as_text=True)


def test_dossier_events_are_emailed_as_the_preferences_say(app, parties, run_jobs, smtp):
    from datetime import UTC, datetime

    from app.services.notifications import preferences

    d = _audit_in_progress(app, parties)
    with app.test_request_context():
        expert = db.session.get(User, parties["expert"])
        workflow.transition(d, "complete_audit", expert, final_amount="9000", report="R")
    run_jobs()
    [mail] = smtp.to("client@example.fr")
    body = smtp.body(mail)
    assert "Audit à valider" in body and "La prochaine étape vous revient" in body
    assert f"/dossiers/{d}" in body
    smtp.messages.clear()
    with app.test_request_context():
        client_user = db.session.get(User, parties["client"])
        expert = db.session.get(User, parties["expert"])
        # no dossier emails: the client still gets the in-app notification only
        preferences.update(client_user, {("dossiers", "in_app")}, "", "", False)
        workflow.transition(d, "reject_audit", client_user, reason="Trop bas")
        workflow.transition(d, "complete_audit", expert, final_amount="9500", report="R2")
    run_jobs()
    assert smtp.to("client@example.fr") == []
    with app.test_request_context():
        client_user = db.session.get(User, parties["client"])
        expert = db.session.get(User, parties["expert"])
        preferences.update(client_user, {("dossiers", "email")}, "22", "7", False)
        night = datetime(2026, 1, 5, 22, 30, tzinfo=UTC)  # 23:30 in Paris
        with clock.frozen(night):
            workflow.transition(d, "reject_audit", client_user, reason="Encore")
            workflow.transition(d, "complete_audit", expert, final_amount="9600", report="R3")
            run_jobs()  # the worker announces both, at night
        queue = app.extensions["rq"]["high"]
        scheduled = queue.scheduled_job_registry.get_job_ids()
        assert scheduled  # held until 07:00 Paris time
        when = queue.scheduled_job_registry.get_scheduled_time(scheduled[0])
        assert when.replace(tzinfo=UTC) == datetime(2026, 1, 6, 6, 0, tzinfo=UTC)


def test_a_garbled_version_is_a_conflict_not_an_error(app, client, parties):
    d = parties["dossier"]
    login(client, "client@example.fr")
    resp = _act(client, d, "cancel", version="abc", reason="x")
    assert resp.status_code == 409
    assert _dossier(app, d).status == DossierStatus.PENDING_UPLOAD


def test_announcements_tell_each_step_once_even_when_the_job_is_lost(app, parties, run_jobs):
    from app.models import Message, MessageKind, Notification
    from app.services.workflow import jobs as sweeps

    _audited_then_refused_unannounced(app, parties)

    def told():
        with app.app_context():
            rows = db.session.execute(
                db.select(Notification.user_id, Notification.type).order_by(Notification.id)
            ).all()
            system = db.session.scalars(
                db.select(Message.body).where(Message.kind == MessageKind.SYSTEM)
            ).all()
            return [tuple(r) for r in rows], system

    assert told() == ([], [])
    with app.app_context(), _two_minutes_later():
        assert sweeps.announce_missed_transitions() == 2
        assert sweeps.announce_missed_transitions() == 0
    # each step as it stood: the audit went to the client, the refusal back to the expert
    expected = (
        [
            (parties["client"], "dossier_complete_audit"),
            (parties["expert"], "dossier_reject_audit"),
        ],
        ["complete_audit", "reject_audit"],
    )
    assert told() == expected
    with app.test_request_context():
        first = db.session.scalar(db.select(db.func.min(DossierEvent.id)))
        assert workflow.announce(first) is False  # a late duplicate job changes nothing
    run_jobs()
    assert told() == expected


def test_the_sweep_goes_past_an_event_it_cannot_announce(app, parties, monkeypatch):
    from app.services import messaging
    from app.services.workflow import jobs as sweeps

    _audited_then_refused_unannounced(app, parties)
    real = messaging.system_message

    def broken_for_the_audit(dossier, action):
        if action == "complete_audit":
            raise RuntimeError("boom")
        return real(dossier, action)

    monkeypatch.setattr(messaging, "system_message", broken_for_the_audit)
    with app.app_context(), _two_minutes_later():
        assert sweeps.announce_missed_transitions() == 1  # the refusal, behind the broken one
        waiting = db.session.scalars(
            db.select(DossierEvent.action).where(DossierEvent.announced_at.is_(None))
        ).all()
        assert waiting == ["complete_audit"]  # tried again next minute
