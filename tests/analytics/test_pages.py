"""The admin dashboard and the analytics pages (issue 28 §1–2): figures with their trend and the
list behind them, filters kept in the URL, SVG charts beside their tables, the fragment htmx
asks for, Excel with native charts and PDF exports that contain the figures, and who may see
what (an expert their own figures, a stranger a 404)."""

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from app.extensions import db
from app.models import ApprovalStatus, DossierStatus, Role, utcnow
from tests.factories import HX, login, make_user
from tests.factories.models import (
    gen_admin,
    gen_client,
    gen_dossier,
    gen_expert,
    gen_firm,
    gen_invoice,
)


def _flat(page: str) -> str:
    return re.sub(r"\s", "", page)  # French numbers use narrow no-break spaces


def _world(app):
    """Two experts with a refunded dossier each; an admin."""
    with app.app_context():
        s = db.session
        now = utcnow()
        admin = gen_admin(s, email="boss@example.fr")
        ana = gen_expert(s, email="ana@example.fr", first_name="Ana", last_name="Martin")
        bob = gen_expert(s, email="bob@example.fr", first_name="Bob", last_name="Durand")
        for expert, obtained, postal in ((ana, 1_200_000, "69003"), (bob, 300_000, "75011")):
            client = gen_client(s)
            client.client_profile.postal_code = postal
            d = gen_dossier(
                s,
                client=client,
                expert=expert,
                status=DossierStatus.REFUND_CONFIRMED,
                created_at=now - timedelta(days=3),
                expert_selected_at=now - timedelta(days=2, hours=3),
                expert_accepted_at=now - timedelta(days=2),
                refunded_at=now - timedelta(hours=5),
                obtained_cents=obtained,
            )
            gen_invoice(s, d, obtained_cents=obtained)
        s.commit()
        return {"admin": admin.id, "ana": ana.id, "bob": bob.id}


def test_the_dashboard_shows_the_kpis_with_trend_and_links(app, client):
    _world(app)
    login(client, "boss@example.fr")
    page = client.get("/admin/").get_data(as_text=True)
    assert "Chiffres clés" in page and 'id="admin-kpis"' in page
    assert 'id="kpi-opened"' in page and "Dossiers ouverts" in page
    assert "15000€" in _flat(page)  # obtained: 12 000 € + 3 000 €
    assert "Pas de chiffre sur la période précédente" in page  # nothing before: no trend
    assert 'href="/analytics/funnel?' in page and 'href="/admin/alerts"' in page
    assert "Dossiers actuels, par étape et statut" in page and "<svg" in page
    # the fragment htmx asks for (live refresh), with the period kept
    frag = client.get(
        "/admin/?from=2020-01-01&to=2020-01-31", headers=HX | {"HX-Target": "admin-kpis"}
    )
    body = frag.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="admin-kpis"') and "<html" not in body
    assert "from=2020-01-01" in body


def test_the_dashboard_is_the_admins(app, client):
    make_user(app, email="c@example.fr")
    login(client, "c@example.fr")
    assert client.get("/admin/").status_code == 403


@pytest.mark.parametrize("view", ["funnel", "experts", "products", "referrers", "sla"])
def test_each_analytics_page_and_its_fragment(app, client, view):
    _world(app)
    login(client, "boss@example.fr")
    page = client.get(f"/analytics/{view}").get_data(as_text=True)
    assert '<div id="report">' in page and "<form" in page
    assert f'href="/analytics/{view}.xlsx?' in page and f'href="/analytics/{view}.pdf?' in page
    frag = client.get(f"/analytics/{view}?region=69", headers=HX | {"HX-Target": "report"})
    assert frag.get_data(as_text=True).lstrip().startswith('<div id="report">')


def test_the_expert_ranking_with_filters_in_the_url(app, client):
    ids = _world(app)
    login(client, "boss@example.fr")
    page = client.get("/analytics/experts").get_data(as_text=True)
    assert page.index("Ana Martin") < page.index("Bob Durand")  # most obtained first
    assert "12000€" in _flat(page) and "3000€" in _flat(page)
    assert "3 h 00 min" in page  # acceptance: from the client's choice to the expert's yes
    # the name is a link that narrows the page to that expert, filters kept in the URL
    assert f"expert={ids['ana']}" in page
    only_bob = client.get(f"/analytics/experts?expert={ids['bob']}").get_data(as_text=True)
    assert "Bob Durand" in only_bob and "Ana Martin" not in only_bob
    lyon = client.get("/analytics/experts?region=69").get_data(as_text=True)
    assert "Ana Martin" in lyon and "Bob Durand" not in lyon
    assert 'value="69"' in lyon  # the form comes back with the filter


def test_a_wrong_filter_is_said_and_left_out(app, client):
    _world(app)
    login(client, "boss@example.fr")
    resp = client.get("/analytics/experts?expert=abc&region=999&from=2000-01-01")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "« abc » n’est pas un numéro de expert" in page
    assert "n’est pas un département" in page
    assert "Une période dure au plus trois ans" in page
    assert "Ana Martin" in page  # the rest of the filters still apply


def test_the_excel_export_has_the_figures_and_native_charts(app, client):
    _world(app)
    login(client, "boss@example.fr")
    resp = client.get("/analytics/experts.xlsx?region=69")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames[0] == "Filtres"
    filters = [tuple(r) for r in book["Filtres"].iter_rows(values_only=True)]
    assert ("Département", "69") in filters
    sheet = book.worksheets[1]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Expert" and rows[1][0] == "Ana Martin" and rows[1][1] == 12_000
    assert len(rows) == 2  # Bob is in Paris
    assert len(sheet._charts) == 1  # a native bar chart, not a picture
    products = load_workbook(io.BytesIO(client.get("/analytics/products.xlsx").data))
    assert len(products.worksheets) == 3 and all(len(ws._charts) for ws in products.worksheets[1:])


def test_the_pdf_export_has_the_figures(app, client):
    _world(app)
    login(client, "boss@example.fr")
    resp = client.get("/analytics/experts.pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    assert "Performance des experts" in text and "Ana Martin" in text and "Bob Durand" in text


def test_an_expert_sees_only_their_own_figures(app, client):
    ids = _world(app)
    login(client, "bob@example.fr")
    page = client.get(f"/analytics/experts?expert={ids['ana']}").get_data(as_text=True)
    assert "Bob Durand" in page and "Ana Martin" not in page  # the scope wins over the URL
    assert 'name="expert"' not in page  # no filter to widen it
    assert client.get("/analytics/funnel").status_code == 404  # the platform's, not theirs
    assert client.get("/analytics/referrers.xlsx").status_code == 404
    data = load_workbook(io.BytesIO(client.get("/analytics/experts.xlsx").data))
    names = [r[0] for r in data.worksheets[1].iter_rows(min_row=2, values_only=True)]
    assert names == ["Bob Durand"]


def test_a_firm_runner_sees_the_firm(app, client):
    ids = _world(app)
    with app.app_context():
        s = db.session
        from app.models import User

        ana = s.get(User, ids["ana"])
        bob = s.get(User, ids["bob"])
        firm = gen_firm(s, ana, members=[bob])
        ana.expert_profile.firm_id = bob.expert_profile.firm_id = firm.id  # as firms.py does
        s.commit()
    # the facts moved with the experts' firm: the rows they carry follow
    login(client, "ana@example.fr")
    experts = client.get("/analytics/experts").get_data(as_text=True)
    assert "Ana Martin" in experts and "Bob Durand" in experts


@pytest.mark.parametrize("who", ["client", "apporteur", "pending_expert", "sales"])
def test_strangers_get_404(app, client, who):
    _world(app)
    if who == "pending_expert":
        make_user(app, Role.EXPERT, email="p@example.fr", approval_status=ApprovalStatus.PENDING)
    else:
        make_user(app, Role(who), email="p@example.fr")
    login(client, "p@example.fr")
    for url in ("/analytics/", "/analytics/experts", "/analytics/sla.pdf", "/analytics/reports"):
        assert client.get(url).status_code == 404, url
    assert client.get("/analytics/nope").status_code == 404


def test_signed_out_goes_to_login(client):
    resp = client.get("/analytics/experts")
    assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"]


def test_the_page_weight(app, client):
    _world(app)
    login(client, "boss@example.fr")
    for url in ("/admin/", "/analytics/sla", "/analytics/products"):
        assert len(client.get(url).data) < 100_000, url
