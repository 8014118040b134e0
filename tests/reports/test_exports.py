"""Exports of a simulation: queued, built by a real RQ worker, read back, owner-only, purged."""

import io
import re
import zipfile
from datetime import timedelta

import openpyxl
from docx import Document
from pypdf import PdfReader

from app.core import storage
from app.extensions import db
from app.models import Export, ExportStatus, FunnelEvent, Simulation, utcnow
from app.services.simulator import exports, simulations
from tests.factories import login, make_user, post
from tests.simulator.test_simulator_engine import GOLDEN
from tests.simulator.test_simulator_pages import run_steps


def _plain(text: str) -> str:
    """French number formats use narrow no-break spaces: compare on plain spaces."""
    return re.sub(r"[\u202f\u00a0]", " ", text)


def _results(client) -> str:
    path = run_steps(client, GOLDEN)
    assert client.get(path).status_code == 200
    return path.rsplit("/", 1)[1]


def _export(client, run_jobs, token: str, fmt: str) -> bytes:
    resp = post(
        client,
        f"/simulator/results/{token}/exports",
        {"format": fmt},
        htmx=True,
        headers={"HX-Target": "exports"},
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<progress" in html and 'hx-trigger="every 1s, export:progress from:body"' in html
    export_id = int(re.search(r'id="export-(\d+)"', html).group(1))
    run_jobs(("exports",))
    status = client.get(
        f"/simulator/exports/{export_id}", headers={"HX-Request": "true", "HX-Target": "exports"}
    )
    assert status.status_code == 286  # finished: htmx stops polling
    assert "hx-trigger" not in status.get_data(as_text=True)
    download = client.get(f"/simulator/exports/{export_id}/download")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    return download.data


def test_excel_export_reads_back(client, run_jobs):
    token = _results(client)
    data = _export(client, run_jobs, token, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))
    summary, answers, calc = book.worksheets
    rows = {r[0]: r[1] for r in summary.iter_rows(values_only=True) if r[0]}
    assert rows["Total"] == 190300
    assert rows["Remboursement TICPE"] == 19200
    assert summary.title == "Produits qui s'appliquent"
    assert zipfile.ZipFile(io.BytesIO(data)).namelist().count("xl/charts/chart1.xml") == 1
    answer_rows = {r[0]: r[1] for r in answers.iter_rows(min_row=2, values_only=True)}
    assert answer_rows["Quel est votre secteur d'activité ?"] == "Transport et Logistique"
    calc_rows = list(calc.iter_rows(min_row=2, values_only=True))
    assert any(r[1] == "ticpe_quick v1" and r[4] == 8000 for r in calc_rows)


def test_word_export_reads_back(client, run_jobs):
    token = _results(client)
    doc = Document(io.BytesIO(_export(client, run_jobs, token, "docx")))
    text = _plain(
        "\n".join(
            [p.text for p in doc.paragraphs]
            + [c.text for t in doc.tables for row in t.rows for c in row.cells]
        )
    )
    assert "190 300 €" in text and "19 200 €" in text
    assert "Transport et Logistique" in text
    assert "Produits qui s'appliquent" in text and "Vos réponses" in text
    assert "{{" not in text and "{%" not in text  # every tag rendered
    assert "MSA" in text  # listed with the products that do not apply


def test_pdf_export_reads_back(client, run_jobs):
    token = _results(client)
    reader = PdfReader(io.BytesIO(_export(client, run_jobs, token, "pdf")))
    text = _plain("\n".join(page.extract_text() for page in reader.pages))
    assert "190 300 €" in text and "19 200 €" in text
    assert "Transport et Logistique" in text


def test_client_export_in_english_with_company(client, app, run_jobs):
    user_id = make_user(app, locale="en", company_name="Rapid Fret SARL")
    login(client, "client1@example.fr")
    token = _results(client)
    reader = PdfReader(io.BytesIO(_export(client, run_jobs, token, "pdf")))
    text = _plain(reader.pages[0].extract_text())
    assert "Rapid Fret SARL" in text and "Total" in text and "€190,300" in text
    with app.app_context():
        assert db.session.scalar(db.select(Simulation.user_id)) == user_id


def test_without_javascript_the_status_page_refreshes(client, run_jobs):
    token = _results(client)
    resp = post(client, f"/simulator/results/{token}/exports", {"format": "pdf"})
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    run_jobs(("exports",))
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "refresh" not in page and "/download" in page
    assert "/download" in client.get(f"/simulator/results/{token}").get_data(as_text=True)


def test_double_click_builds_one_file(client, app):
    token = _results(client)
    for _ in range(2):
        post(client, f"/simulator/results/{token}/exports", {"format": "xlsx"})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Export.id))) == 1


def test_bad_format_and_draft_refused(client, app):
    token = _results(client)
    resp = post(client, f"/simulator/results/{token}/exports", {"format": "exe"})
    assert resp.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Export.id))) == 0


def test_strangers_get_404(client, app, run_jobs):
    token = _results(client)
    _export(client, run_jobs, token, "pdf")
    with app.app_context():
        export_id = db.session.scalar(db.select(Export.id))
    urls = [f"/simulator/exports/{export_id}", f"/simulator/exports/{export_id}/download"]
    other = app.test_client()  # another visitor's browser
    for url in urls:
        assert other.get(url).status_code == 404
    assert post(other, f"/simulator/results/{token}/exports", {"format": "pdf"}).status_code == 404
    make_user(app, email="someone@example.fr")
    login(other, "someone@example.fr")
    for url in urls:
        assert other.get(url).status_code == 404
    admin = app.test_client()
    from app.models import Role

    make_user(app, role=Role.ADMIN, email="boss@example.fr")
    login(admin, "boss@example.fr")
    assert admin.get(urls[1]).status_code == 404  # owner only, not even an admin


def test_expired_exports_and_old_visitor_simulations_are_purged(client, app, run_jobs):
    token = _results(client)
    _export(client, run_jobs, token, "xlsx")
    with app.app_context():
        export = db.session.scalar(db.select(Export))
        key, export_id = export.storage_key, export.id
        assert export.status == ExportStatus.DONE and storage.path_of(key).exists()
        export.created_at = utcnow() - timedelta(days=8)
        db.session.commit()
    assert client.get(f"/simulator/exports/{export_id}/download").status_code == 404
    with app.app_context():
        assert exports.purge_expired() == 1
        assert not storage.path_of(key).exists()
        # a fresh visitor simulation stays, a week-old one goes with its funnel events
        assert simulations.purge_visitor_simulations() == 0
        sim = db.session.scalar(db.select(Simulation))
        sim.created_at = utcnow() - timedelta(days=8)
        db.session.commit()
        assert simulations.purge_visitor_simulations() == 1
        assert db.session.scalar(db.select(db.func.count(FunnelEvent.id))) == 0


def test_client_simulations_are_not_purged(client, app):
    make_user(app)
    login(client, "client1@example.fr")
    _results(client)
    with app.app_context():
        sim = db.session.scalar(db.select(Simulation))
        sim.created_at = utcnow() - timedelta(days=30)
        db.session.commit()
        assert simulations.purge_visitor_simulations() == 0


def test_a_stalled_export_is_marked_failed(client, app):
    token = _results(client)
    resp = post(client, f"/simulator/results/{token}/exports", {"format": "pdf"})
    status_url = resp.headers["Location"]
    with app.app_context():
        export = db.session.scalar(db.select(Export))
        export.created_at = utcnow() - timedelta(minutes=11)  # its worker died: no job ran
        db.session.commit()
        assert exports.fail_stalled() == 1
        assert db.session.scalar(db.select(Export.status)) == ExportStatus.FAILED
    page = client.get(status_url).get_data(as_text=True)
    assert "refresh" not in page and "Cet export a échoué" in page
