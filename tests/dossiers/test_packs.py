"""The dossier pack (issue 28 §5): one click builds a Word and a PDF document in the exports
worker, with a progress fragment that stops polling when done, then downloads and an email;
strangers get 404."""

import io

from docx import Document as Docx
from pypdf import PdfReader

from app.extensions import db
from app.models import DossierPack, DossierStatus, Email, RunStatus
from tests.factories import HX, login, post
from tests.factories.models import gen_client, gen_dossier, gen_event, gen_expert, gen_invoice


def _dossier(app) -> int:
    with app.app_context():
        s = db.session
        client = gen_client(s, email="cli@example.fr")
        client.client_profile.company_name = "Transports Dupont"
        expert = gen_expert(s, email="exp@example.fr", first_name="Ana", last_name="Martin")
        d = gen_dossier(
            s,
            client=client,
            expert=expert,
            status=DossierStatus.REFUND_CONFIRMED,
            obtained_cents=1_200_000,
            audit_report="Trois années de carburant récupérables.",
        )
        gen_event(s, d, action="submit_eligibility", actor=client, note="Premier envoi")
        gen_invoice(s, d, obtained_cents=1_200_000)
        s.commit()
        return d.id


def test_a_client_builds_the_pack_and_downloads_both_files(app, client, run_jobs, smtp):
    dossier_id = _dossier(app)
    login(client, "cli@example.fr")
    page = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert f'action="/dossiers/{dossier_id}/pack"' in page
    resp = post(client, f"/dossiers/{dossier_id}/pack")
    assert resp.status_code == 303
    pack_url = resp.headers["Location"]
    again = post(client, f"/dossiers/{dossier_id}/pack")  # a double click: the same pack
    assert again.headers["Location"] == pack_url
    waiting = client.get(pack_url).get_data(as_text=True)
    assert "<progress" in waiting and "every 2s" in waiting
    pack_id = int(pack_url.rsplit("/", 1)[1])
    frag = client.get(pack_url, headers=HX | {"HX-Target": f"pack-{pack_id}"})
    assert frag.status_code == 200  # still polling
    run_jobs()
    with app.app_context():
        pack = db.session.get(DossierPack, pack_id)
        assert pack.status == RunStatus.DONE and pack.progress == 100
        assert db.session.scalar(db.select(db.func.count(DossierPack.id))) == 1
        email = db.session.scalar(db.select(Email).where(Email.template == "pack_ready"))
        assert email.recipient == "cli@example.fr" and pack_url in email.body_text
    frag = client.get(pack_url, headers=HX | {"HX-Target": f"pack-{pack_id}"})
    assert frag.status_code == 286  # done: htmx stops polling
    body = frag.get_data(as_text=True)
    assert body.lstrip().startswith(f'<div class="card pack" id="pack-{pack_id}"')
    word = client.get(f"/dossiers/packs/{pack_id}.docx")
    assert word.status_code == 200 and "attachment" in word.headers["Content-Disposition"]
    text = "\n".join(p.text for p in Docx(io.BytesIO(word.data)).paragraphs)
    cells = " ".join(
        c.text for t in Docx(io.BytesIO(word.data)).tables for r in t.rows for c in r.cells
    )
    assert "Historique" in text and "Factures" in text
    assert "Transports Dupont" in cells and "Ana Martin" in cells and "Premier envoi" in cells
    assert "FT-" in cells  # the invoice number
    pdf = client.get(f"/dossiers/packs/{pack_id}.pdf")
    assert pdf.data.startswith(b"%PDF")
    printed = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Trois années de carburant" in printed and "Résumé" in printed
    assert client.get(f"/dossiers/packs/{pack_id}.exe").status_code == 404


def test_strangers_get_404(app, client, run_jobs):
    dossier_id = _dossier(app)
    login(client, "cli@example.fr")
    pack_url = post(client, f"/dossiers/{dossier_id}/pack").headers["Location"]
    run_jobs()
    with app.app_context():
        gen_client(db.session, email="other@example.fr")
        db.session.commit()
    other = app.test_client()
    login(other, "other@example.fr")
    pack_id = pack_url.rsplit("/", 1)[1]
    assert other.get(pack_url).status_code == 404
    assert other.get(f"/dossiers/packs/{pack_id}.pdf").status_code == 404
    assert post(other, f"/dossiers/{dossier_id}/pack").status_code == 404
    # the dossier's expert builds their own pack; they cannot open the client's
    expert = app.test_client()
    login(expert, "exp@example.fr")
    assert expert.get(pack_url).status_code == 404
    assert post(expert, f"/dossiers/{dossier_id}/pack").status_code == 303


def test_the_pack_needs_the_csrf_token(app, client):
    dossier_id = _dossier(app)
    login(client, "cli@example.fr")
    assert post(client, f"/dossiers/{dossier_id}/pack", csrf=False).status_code == 400


def test_a_pack_a_killed_worker_left_is_marked_failed(app, client):
    from datetime import timedelta

    from app.core import clock
    from app.services.dossiers import packs

    dossier_id = _dossier(app)
    login(client, "cli@example.fr")
    pack_url = post(client, f"/dossiers/{dossier_id}/pack").headers["Location"]
    with app.app_context():
        assert packs.fail_stalled() == 0  # just asked for: still expected
        with clock.shifted(timedelta(minutes=16)):
            assert packs.fail_stalled() == 1
    page = client.get(pack_url).get_data(as_text=True)
    assert "n’a pas pu être préparé" in page and "Préparer de nouveau" in page
