"""The detailed TICPE questionnaire on a client's TICPE dossier: pre-filled, computed, kept."""

import re

from app.extensions import db
from app.models import DetailedEstimate, Dossier, Product
from tests.factories import login, make_user, post
from tests.simulator.test_simulator_engine import GOLDEN
from tests.simulator.test_simulator_pages import run_steps


def _ticpe_dossier(client, app) -> int:
    make_user(app, email="fret@example.fr")
    login(client, "fret@example.fr")
    run_steps(client, GOLDEN)
    with app.app_context():
        return db.session.scalar(db.select(Dossier.id).join(Product).where(Product.code == "TICPE"))


FORM = {
    "activity": "trm",
    "vehicles": "5",
    "vehicle_types": ["heavy"],
    "fuels": ["gazole"],
    "litres_per_year": "",
    "km_per_vehicle": "",
    "professional_use": "100",
    "turnover": "2 500 000",
    "fuel_invoices": "all",
    "fuel_cards": "partial",
    "plate_on_invoices": "partial",
    "registered_to_company": "all",
    "claims_already": "never",
}


def test_prefilled_from_the_simulation_and_linked_from_the_dashboard(client, app):
    dossier_id = _ticpe_dossier(client, app)
    assert f"/dossiers/{dossier_id}/ticpe" in client.get("/dashboard").get_data(as_text=True)
    html = client.get(f"/dossiers/{dossier_id}/ticpe").get_data(as_text=True)
    assert re.search(r'<option selected value="trm">|<option value="trm" selected>', html)
    assert 'value="96000"' in html or 'value="96 000"' in html  # 8 000 L a month × 12
    assert re.search(r'value="heavy"[^>]*checked|checked[^>]*value="heavy"', html)


def test_compute_and_keep_the_result(client, app):
    dossier_id = _ticpe_dossier(client, app)
    resp = post(client, f"/dossiers/{dossier_id}/ticpe", FORM)
    assert resp.status_code == 303  # post/redirect/get: a reload does not compute again
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    amount = re.search(r'id="ticpe-amount">([^<]+)<', html).group(1)
    assert re.sub(r"[\u202f\xa0]", " ", amount) == "8 850 €"
    assert "Transport routier, 5 camions" in html and "CERFA" in html
    with app.app_context():
        row = db.session.scalar(db.select(DetailedEstimate))
        assert (
            row.amount_cents == 885_000 and row.result["maturity_score"] == 35
        )  # 10 + 10 + 15 + 0
        assert row.inputs["vehicle_types"] == ["heavy"]
    # through htmx (boosted form) the same post answers 204 with the page to load
    resp = post(client, f"/dossiers/{dossier_id}/ticpe", FORM, htmx=True)
    assert (
        resp.status_code == 204 and f"/dossiers/{dossier_id}/ticpe" in resp.headers["HX-Location"]
    )
    # reopening shows the last run and its answers
    html = client.get(f"/dossiers/{dossier_id}/ticpe").get_data(as_text=True)
    assert 'id="ticpe-amount">8\u202f850' in html
    assert re.search(r'name="turnover"[^>]*value="2\D?500\D?000"', html)


def test_no_vehicles_gives_zero(client, app):
    dossier_id = _ticpe_dossier(client, app)
    data = {**FORM, "vehicles": "0", "vehicle_types": [], "activity": "other"}
    html = post(client, f"/dossiers/{dossier_id}/ticpe", data, follow_redirects=True).get_data(
        as_text=True
    )
    assert re.search(r'id="ticpe-amount">0[\s\xa0\u202f]?€<', html)


def test_bad_input_keeps_the_values(client, app):
    dossier_id = _ticpe_dossier(client, app)
    data = {**FORM, "vehicles": "beaucoup", "vehicle_types": [], "turnover": "-3"}
    resp = post(client, f"/dossiers/{dossier_id}/ticpe", data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'value="beaucoup"' in html and "error-summary" in html
    data = {**FORM, "vehicle_types": []}
    html = post(client, f"/dossiers/{dossier_id}/ticpe", data).get_data(as_text=True)
    assert "Cochez les types de vos véhicules." in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(DetailedEstimate.id))) == 0


def test_strangers_and_other_products_get_404(client, app):
    dossier_id = _ticpe_dossier(client, app)
    with app.app_context():
        other_id = db.session.scalar(
            db.select(Dossier.id).join(Product).where(Product.code == "URSSAF")
        )
    assert client.get(f"/dossiers/{other_id}/ticpe").status_code == 404
    stranger = app.test_client()
    make_user(app, email="other@example.fr")
    login(stranger, "other@example.fr")
    assert stranger.get(f"/dossiers/{dossier_id}/ticpe").status_code == 404
    assert post(stranger, f"/dossiers/{dossier_id}/ticpe", FORM).status_code == 404
    assert app.test_client().get(f"/dossiers/{dossier_id}/ticpe").status_code in (302, 401)
