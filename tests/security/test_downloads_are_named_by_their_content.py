"""Defect: a PDF uploaded as `facture.exe` was downloaded as `facture.exe`. A download is now
named after what its content is, whatever name it came with."""

from app.extensions import db
from app.models import Document
from app.services.dossiers import documents
from tests.dossiers.test_workflow import PDF, PNG, _upload, parties  # noqa: F401
from tests.factories import login


def test_a_pdf_uploaded_as_an_exe_downloads_as_a_pdf(app, client, parties):  # noqa: F811
    login(client, "client@example.fr")
    label = parties["labels"][1]
    resp = _upload(
        client,
        parties["dossier"],
        "eligibility",
        label,
        ("facture.exe", PDF),
        ("photo.pdf.bat", PNG),
        ("sans-extension", PDF),
    )
    assert resp.status_code == 303
    with app.app_context():
        ids = list(db.session.scalars(db.select(Document.id).order_by(Document.id)))
    names = []
    for doc_id in ids:
        resp = client.get(f"/dossiers/documents/{doc_id}")
        assert resp.status_code == 200 and resp.headers["X-Content-Type-Options"] == "nosniff"
        names.append(resp.headers["Content-Disposition"])
    assert ["facture.pdf" in n for n in names] == [True, False, False]
    assert "photo.pdf.png" in names[1] and "sans-extension.pdf" in names[2]
    assert not any(".exe" in n or ".bat" in n for n in names)


def test_the_name_rule():
    assert documents.download_name("../../x.exe", "application/pdf") == "x.pdf"
    assert documents.download_name("", "image/jpeg") == "document.jpg"
    assert documents.download_name("rib.PDF", "application/pdf") == "rib.pdf"
