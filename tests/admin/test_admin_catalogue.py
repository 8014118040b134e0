"""Admin edits of the catalogue: constants in French, rules checked, inactive formulas kept off."""

import json
from html import unescape

from app.extensions import db
from app.models import AuditLog, Product, Question, Role
from app.services.simulator import simulations
from tests.factories import login, make_user, post
from tests.simulator.test_simulator_engine import GOLDEN


def _admin(client, app):
    make_user(app, role=Role.ADMIN, email="admin@example.fr")
    login(client, "admin@example.fr")


def _product(app, code):
    with app.app_context():
        return db.session.scalar(
            db.select(Product).options(db.selectinload(Product.rule)).where(Product.code == code)
        )


def _question(app, code):
    with app.app_context():
        return db.session.scalar(db.select(Question).where(Question.code == code))


def _product_form(client, product) -> dict:
    """The edit form as the browser would send it back unchanged."""
    page = client.get(f"/admin/catalogue/products/{product.id}")
    assert page.status_code == 200
    data = {
        "name": product.name,
        "category": product.category,
        "description": product.description,
        "display_note": product.display_note,
        "benefits": "\n".join(product.benefits),
        "formula_version": str(product.formula_version),
        "documents": "\n".join(product.documents.get("eligibility", [])),
        "rule": json.dumps(product.rule.condition, ensure_ascii=False),
        "sectors": product.sectors,
    }
    if product.active:
        data["active"] = "y"
    for name, value in product.constants.items():
        data[f"constant_{name}"] = str(value).replace(".", ",")
    return data


def test_catalogue_lists_products_and_questions(client, app):
    _admin(client, app)
    html = client.get("/admin/catalogue").get_data(as_text=True)
    assert "Remboursement TICPE" in html and "GENERAL_001" in html
    assert html.count('id="product-') == 12 and html.count('id="question-') == 14


def test_edit_a_constant_in_french_changes_the_estimate(client, app):
    _admin(client, app)
    ticpe = _product(app, "TICPE")
    data = _product_form(client, ticpe)
    name = next(k for k in data if k.startswith("constant_"))
    data[name] = "0,25"
    resp = post(client, f"/admin/catalogue/products/{ticpe.id}", data)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
    ticpe = _product(app, "TICPE")
    assert ticpe.constants[name.removeprefix("constant_")] == 0.25
    with app.test_request_context():
        result = simulations.quick_estimate(GOLDEN)
    amount = next(p.amount for p in result["products"] if p.code == "TICPE")
    assert amount != 19200
    with app.app_context():
        assert db.session.scalar(db.select(AuditLog.action)) == "product.updated"


def test_bad_constant_and_rule_come_back_with_the_values(client, app):
    _admin(client, app)
    ticpe = _product(app, "TICPE")
    data = _product_form(client, ticpe)
    name = next(k for k in data if k.startswith("constant_"))
    data[name] = "beaucoup"
    data["rule"] = '{"question": "TICPE_001", "operator": "equals", "value": "Peut-être"}'
    data["name"] = "Nouveau nom"
    resp = post(client, f"/admin/catalogue/products/{ticpe.id}", data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "beaucoup" in html and "Nouveau nom" in html and "Peut-être" in html
    assert "Saisissez un nombre" in html
    # the number error stops the form before the rule is checked; fix it and the rule is refused
    data[name] = "0,1"
    html = unescape(
        post(client, f"/admin/catalogue/products/{ticpe.id}", data).get_data(as_text=True)
    )
    assert "« Peut-être » n'est pas une option de TICPE_001" in html
    data["rule"] = '{"question": "NOPE_001", "operator": "equals", "value": "x"}'
    html = post(client, f"/admin/catalogue/products/{ticpe.id}", data).get_data(as_text=True)
    assert "NOPE_001" in html and "inconnue" in html
    data["rule"] = '{"question": '
    resp = post(client, f"/admin/catalogue/products/{ticpe.id}", data)
    assert resp.status_code == 422 and "JSON" in resp.get_data(as_text=True)
    assert _product(app, "TICPE").name == "Remboursement TICPE"  # nothing saved


def test_a_product_without_formula_cannot_be_activated(client, app):
    _admin(client, app)
    tva = _product(app, "TVA")
    assert not tva.active
    data = _product_form(client, tva)
    data["active"] = "y"
    resp = post(client, f"/admin/catalogue/products/{tva.id}", data)
    assert resp.status_code == 422
    assert "reste inactif" in resp.get_data(as_text=True)
    assert not _product(app, "TVA").active


def test_deactivating_a_product_removes_it_from_results(client, app):
    _admin(client, app)
    msa = _product(app, "MSA")
    data = _product_form(client, msa)
    data.pop("active")
    assert post(client, f"/admin/catalogue/products/{msa.id}", data).status_code == 303
    resp = client.post("/api/v1/simulations", json={"answers": GOLDEN})
    assert "MSA" not in {p["code"] for p in resp.get_json()["products"]}


def test_question_edit_refuses_removing_an_option_a_rule_uses(client, app):
    _admin(client, app)
    q = _question(app, "TICPE_001")
    resp = post(
        client,
        f"/admin/catalogue/questions/{q.id}",
        {"text": q.text, "help": q.help, "options": "Non\nPeut-être", "required": "y"},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "TICPE" in html and "Peut-être" in html  # the message names the rule; value kept
    assert _question(app, "TICPE_001").options == ["Oui", "Non"]


def test_question_condition_must_use_earlier_questions(client, app):
    _admin(client, app)
    q = _question(app, "GENERAL_002")
    cond = '{"question": "TICPE_001", "operator": "equals", "value": "Oui"}'
    resp = post(
        client,
        f"/admin/catalogue/questions/{q.id}",
        {"text": q.text, "options": "", "required": "y", "condition": cond},
    )
    assert resp.status_code == 422
    assert "avant" in resp.get_data(as_text=True)


def test_question_text_edit_shows_in_the_simulator(client, app):
    _admin(client, app)
    q = _question(app, "GENERAL_004")
    resp = post(
        client,
        f"/admin/catalogue/questions/{q.id}",
        {"text": "Possédez-vous vos locaux ?", "options": "Oui\nNon", "required": "y"},
    )
    assert resp.status_code == 303
    anonymous = app.test_client()
    assert "Possédez-vous vos locaux ?" in anonymous.get("/simulator").get_data(as_text=True)


def test_catalogue_pages_are_for_admins_only(client, app):
    make_user(app, email="client@example.fr")
    login(client, "client@example.fr")
    ticpe = _product(app, "TICPE")
    assert client.get("/admin/catalogue").status_code in (403, 404)
    assert client.get(f"/admin/catalogue/products/{ticpe.id}").status_code in (403, 404)
    _admin(client, app)
    assert client.get("/admin/catalogue/products/999999").status_code == 404
