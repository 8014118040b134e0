"""The public JSON API: estimates, validation errors per question, no CSRF, rate limit, OpenAPI."""

from app.extensions import db
from app.models import Simulation
from tests.simulator.test_simulator_engine import GOLDEN


def test_estimate_for_the_golden_example(client, app):
    resp = client.post("/api/v1/simulations", json={"answers": GOLDEN})  # no CSRF token
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    by_code = {p["code"]: p for p in body["products"]}
    assert by_code["TICPE"]["eligible"] is True
    assert by_code["TICPE"]["estimated_amount"] == 19200.0
    assert by_code["TICPE"]["details"]["formula"] == "ticpe_quick"
    assert by_code["TICPE"]["reason"] is None
    assert by_code["MSA"]["eligible"] is False and by_code["MSA"]["reason"]
    assert body["total_estimated_amount"] == 190300.0
    assert body["total_estimated_amount"] == sum(
        p["estimated_amount"] for p in body["products"] if p["eligible"] and p["estimated_amount"]
    )
    assert "TVA" not in by_code and "CEE" not in by_code  # inactive products are not listed
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Simulation.id))) == 0  # stateless


def test_exact_numbers_and_french_strings(client):
    answers = {**GOLDEN, "GENERAL_002": "2 500 000", "GENERAL_003": 45}
    body = client.post("/api/v1/simulations", json={"answers": answers}).get_json()
    urssaf = next(p for p in body["products"] if p["code"] == "URSSAF")
    assert urssaf["details"]["inputs"]["employees"] == 45


def test_validation_errors_per_question_in_french(client):
    answers = {
        "GENERAL_001": "Spatial",  # not an option
        "GENERAL_002": -5,  # negative
        "GENERAL_003": "beaucoup",  # not a number
        "GENERAL_004": 3,  # a number where a choice is expected
        "NOPE_001": "x",  # unknown question
    }
    resp = client.post("/api/v1/simulations", json={"answers": answers})
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]
    assert set(errors) >= {"GENERAL_001", "GENERAL_002", "GENERAL_003", "GENERAL_004", "NOPE_001"}
    assert errors["NOPE_001"] == "Question inconnue."
    assert "positif" in errors["GENERAL_002"]
    assert "RECOUVR_001" in errors  # required and missing


def test_errors_follow_accept_language(client):
    resp = client.post(
        "/api/v1/simulations",
        json={"answers": {"NOPE_001": "x"}},
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    assert resp.get_json()["errors"]["NOPE_001"] == "Unknown question."


def test_too_many_answers_and_malformed_bodies(client):
    many = {f"X_{i:03d}": "a" for i in range(20)}
    errors = client.post("/api/v1/simulations", json={"answers": many}).get_json()["errors"]
    assert "answers" in errors
    for body in ({"answer": {}}, [], "text"):
        resp = client.post("/api/v1/simulations", json=body)
        assert resp.status_code == 422 and "answers" in resp.get_json()["errors"]
    resp = client.post("/api/v1/simulations", data="{not json", content_type="application/json")
    assert resp.status_code == 422
    resp = client.post("/api/v1/simulations", json={"answers": ["GENERAL_001"]})
    assert resp.status_code == 422 and "answers" in resp.get_json()["errors"]


def test_rate_limited_per_ip(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_API", "3 per minute")
    codes = [
        client.post("/api/v1/simulations", json={"answers": GOLDEN}).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    resp = client.post("/api/v1/simulations", json={"answers": GOLDEN})
    assert "rate_limit" in resp.get_json()["errors"]
    other = client.post(
        "/api/v1/simulations", json={"answers": GOLDEN}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 200


def test_openapi_documents_every_question(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    post = spec["paths"]["/simulations"]["post"]
    assert set(post["responses"]) == {"200", "422", "429"}
    answers = spec["components"]["schemas"]["Answers"]["properties"]
    assert len(answers) == 14
    assert "Transport et Logistique" in answers["GENERAL_001"]["enum"]
    assert answers["TICPE_003"]["type"] == "array"
