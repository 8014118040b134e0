"""The simulator through the test client: htmx steps, the no-JS form, results, ownership,
visitor-to-account conversion and the re-simulation merge."""

import json
import re

from app.extensions import db
from app.models import Dossier, DossierStatus, FunnelEvent, Simulation, SimulationStatus
from tests.accounts.test_auth import SIGNUP
from tests.factories import HX, login, make_user, post
from tests.simulator.test_simulator_engine import GOLDEN

STEP = {**HX, "HX-Target": "simulator"}


def answer_step(client, code, value):
    data = {"question": code}
    data[code] = value
    return post(client, "/simulator/answer", data, htmx=True, headers={"HX-Target": "simulator"})


def current_code(html: str) -> str:
    return re.search(r'name="question" value="([A-Z_0-9]+)"', html).group(1)


def run_steps(client, answers: dict):
    """Answer whatever question the server asks next, from `answers`, until the results."""
    page = client.get("/simulator/step", headers=STEP)
    for _ in range(20):
        if page.status_code == 204:
            return json.loads(page.headers["HX-Location"])["path"]
        assert page.status_code == 200, page.get_data(as_text=True)[:400]
        code = current_code(page.get_data(as_text=True))
        page = answer_step(client, code, answers[code])
    raise AssertionError("the questionnaire did not end")


def test_a_visitor_finds_the_simulator_from_the_home_page(client):
    home = client.get("/").get_data(as_text=True)
    # the hero's first button, the "check your eligibility" card and the navigation
    assert home.count('href="/simulator"') == 3
    assert "Estimer ce que vous pouvez récupérer" in home
    assert client.get("/simulator").status_code == 200


def test_page_without_js_is_one_complete_form(client):
    page = client.get("/simulator")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('class="field question') == 14
    assert 'hx-get="/simulator/step"' in html  # htmx turns it into steps


def test_steps_with_htmx_reach_costed_results(app, client):
    path = run_steps(client, GOLDEN)
    results = client.get(path).get_data(as_text=True)
    assert "190" in results and "300" in results  # 190 300 € in the French format
    assert "Remboursement TICPE" in results and "19" in results
    assert "Optimisation MSA" in results  # listed under the products that do not apply
    assert "Comment nous l'avons calculé" in results and "salariés × salaire brut moyen" in results
    with app.app_context():
        sim = db.session.scalar(db.select(Simulation))
        assert sim.status == SimulationStatus.COMPLETED and sim.total_cents == 19030000
        steps = db.session.scalar(db.select(db.func.count(FunnelEvent.id)))
        assert steps == 14 + 2  # started, 14 answers, completed


def test_conditions_are_applied_server_side(client):
    client.get("/simulator/step", headers=STEP)
    answer_step(client, "GENERAL_001", "Commerce et Distribution")
    answer_step(client, "GENERAL_002", "500 000")
    answer_step(client, "GENERAL_003", "4")
    page = answer_step(client, "GENERAL_004", "Non")
    assert current_code(page.get_data(as_text=True)) == "RECOUVR_001"  # FONCIER_001 skipped


def test_a_bad_answer_comes_back_with_a_message_and_the_typed_value(client):
    client.get("/simulator/step", headers=STEP)
    answer_step(client, "GENERAL_001", "Transport et Logistique")
    page = answer_step(client, "GENERAL_002", "-1 500")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'value="-1 500"' in html and 'aria-invalid="true"' in html
    assert "Saisissez un nombre positif ou nul." in html
    page = answer_step(client, "GENERAL_002", "douze")
    assert page.status_code == 422 and 'value="douze"' in page.get_data(as_text=True)


def test_draft_resumes_and_back_shows_the_previous_answer(client):
    client.get("/simulator/step", headers=STEP)
    answer_step(client, "GENERAL_001", "Transport et Logistique")
    answer_step(client, "GENERAL_002", "1 500 000,50")
    page = client.get("/simulator/step", headers=STEP)  # a reload resumes where it stopped
    assert current_code(page.get_data(as_text=True)) == "GENERAL_003"
    back = client.get("/simulator/step?q=GENERAL_002", headers=STEP).get_data(as_text=True)
    assert current_code(back) == "GENERAL_002" and "1" in back and "500" in back


def test_no_js_form_validates_everything_and_keeps_values(client):
    data = {**GOLDEN, "GENERAL_002": "beaucoup", "GENERAL_003": "-2"}
    data.pop("DFS_001")
    resp = post(client, "/simulator", data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'value="beaucoup"' in html and 'value="-2"' in html
    assert "error-summary" in html and html.count('class="error"') == 3
    assert 'value="8000"' in html or 'value="8 000"' in html or "8000" in html  # others kept
    data = {**GOLDEN}
    resp = post(client, "/simulator", data)
    assert resp.status_code == 303 and "/simulator/results/" in resp.headers["Location"]


def test_results_belong_to_their_owner(app, client):
    path = run_steps(client, GOLDEN)
    assert client.get(path).status_code == 200
    stranger = app.test_client()
    assert stranger.get(path).status_code == 404
    make_user(app, email="other@example.fr")
    login(stranger, "other@example.fr")
    assert stranger.get(path).status_code == 404


def test_visitor_signs_up_from_results_and_gets_dossiers(app, client, run_jobs, smtp):
    run_steps(client, GOLDEN)
    resp = post(client, "/register", SIGNUP)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        sim = db.session.scalar(db.select(Simulation))
        assert sim.user_id is not None
        dossiers = db.session.scalars(db.select(Dossier)).all()
        assert {d.product.code for d in dossiers} == {
            "URSSAF",
            "RECOUVREMENT",
            "TICPE",
            "DFS",
            "ELEC",
            "FONCIER",
            "GAZ",
            "CHRONO",
            "SOLID",
        }
        assert all(d.status == DossierStatus.PENDING_UPLOAD for d in dossiers)
        ticpe = next(d for d in dossiers if d.product.code == "TICPE")
        assert ticpe.estimated_cents == 1920000 and ticpe.calculation["formula"] == "ticpe_quick"
    # the confirmation link opens the account, on whichever device the mail is read
    run_jobs()
    [message] = smtp.to(SIGNUP["email"].lower())
    phone = app.test_client()
    path = re.search(r"http://[^/]+(/verify/\S+)", smtp.body(message)).group(1)
    assert phone.get(path).status_code == 303
    dashboard = phone.get("/dashboard").get_data(as_text=True)
    assert "Remboursement TICPE" in dashboard and "19" in dashboard


def _dossiers(app, email):
    from app.models import User

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        return {
            d.product.code: d
            for d in db.session.scalars(db.select(Dossier).where(Dossier.client_id == user.id))
        }


def _set_status(app, dossier_id, status):
    with app.app_context():
        db.session.get(Dossier, dossier_id).status = status
        db.session.commit()


def test_resimulation_merges_and_protects_dossiers_with_activity(app, client):
    make_user(app, email="client@example.fr")
    login(client, "client@example.fr")
    run_steps(client, GOLDEN)
    first = _dossiers(app, "client@example.fr")
    assert first["URSSAF"].estimated_cents == 12250000
    _set_status(app, first["URSSAF"].id, DossierStatus.PENDING_ADMIN_VALIDATION)  # activity
    _set_status(app, first["DFS"].id, DossierStatus.EXPERT_ASSIGNED)  # an expert holds it
    _set_status(app, first["FONCIER"].id, DossierStatus.PENDING_ADMIN_VALIDATION)

    post(client, "/simulator/restart")
    changed = {
        **GOLDEN,
        "GENERAL_003": 10,  # URSSAF: 35 000 instead of 122 500
        "DFS_001": 10,  # DFS is held by an expert: untouched
        "RECOUVR_001": "Non",  # no longer eligible, untouched: deleted
        "GENERAL_004": "Non",  # FONCIER no longer eligible, but has activity: kept
    }
    changed.pop("FONCIER_001")
    run_steps(client, changed)
    after = _dossiers(app, "client@example.fr")
    assert after["URSSAF"].estimated_cents == 3500000
    assert after["URSSAF"].previous_estimated_cents == 12250000
    assert after["URSSAF"].status == DossierStatus.PENDING_ADMIN_VALIDATION
    assert after["DFS"].estimated_cents == 900000 and after["DFS"].previous_estimated_cents is None
    assert "RECOUVREMENT" not in after
    assert after["FONCIER"].id == first["FONCIER"].id
    assert (
        after["TICPE"].id == first["TICPE"].id and after["TICPE"].previous_estimated_cents is None
    )


def test_restart_and_results_need_csrf(client):
    assert client.post("/simulator/restart").status_code == 400
    assert client.post("/simulator/answer", data={"question": "GENERAL_001"}).status_code == 400


def test_step_pages_also_work_without_htmx(client):
    page = client.get("/simulator/step")
    assert page.status_code == 200 and "<!doctype html>" in page.get_data(as_text=True)
    resp = post(client, "/simulator/answer", {"question": "GENERAL_001", "GENERAL_001": "Autre"})
    assert resp.status_code == 422 and "<!doctype html>" in resp.get_data(as_text=True)
    resp = post(
        client,
        "/simulator/answer",
        {"question": "GENERAL_001", "GENERAL_001": "Autre secteur"},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<!doctype html>" in html
    assert current_code(html) == "GENERAL_002"


def test_client_profile_prefills_the_first_answers(client, app):
    make_user(app, email="prefill@example.fr", employees=12)
    login(client, "prefill@example.fr")
    html = client.get("/simulator").get_data(as_text=True)
    assert re.search(r'value="Transport et Logistique"\s+checked', html)
    assert re.search(r'id="q-GENERAL_003"[^>]*value="12"', html, re.S)
    step = client.get("/simulator/step", headers=STEP).get_data(as_text=True)
    assert re.search(r'value="Transport et Logistique"\s+checked', step)
    with app.app_context():  # offered, not saved until confirmed
        assert db.session.scalar(db.select(Simulation.answers)) == {}
