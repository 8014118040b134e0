"""The request form (A11): a configuration is checked before it is saved (no required field
left unreachable), conditions show fields, hidden answers never count, the live estimate is the
pricing function's (what is shown is what is charged), and a submission becomes a lead with its
form version, round-robin assigned, confirmed by email; robots and bad input are refused."""

import copy

import pytest

from app.extensions import db
from app.models import Lead, LeadSubmission, Notification, Plan, RequestFormVersion, Role
from app.services import plans
from app.services.crm import requestform
from app.services.plans import pricing
from tests.factories import HX, login, make_user, post
from tests.factories.models import gen_admin


def _fields():
    return copy.deepcopy(requestform.DEFAULT_FIELDS)


def _problems(fields, plan="enterprise"):
    return requestform.problems(fields, plan)


def test_the_default_configuration_holds(ctx):
    assert _problems(_fields()) == {}


@pytest.mark.parametrize(
    "change, key, words",
    [
        # a required field depending on a field below it would never be shown
        (lambda f: f.insert(0, f.pop(1)), "sites", "pas au-dessus"),
        # an answer the controlling field cannot give
        (
            lambda f: f[1].update(show_if={"field": "need", "value": "nope"}),
            "sites",
            "jamais affiché",
        ),
        (
            lambda f: f[4].update(show_if={"field": "fleet", "value": "maybe"}),
            "vehicles",
            "jamais affiché",
        ),
        (
            lambda f: f[1].update(show_if={"field": "sites", "value": "1"}),
            "sites",
            "sa propre réponse",
        ),
        (lambda f: f[1].update(show_if={"field": "ghost", "value": "1"}), "sites", "pas au-dessus"),
        (lambda f: f[2].update(key="sites"), "sites", "Deux champs"),
        (lambda f: f[2].update(key="email"), "email", "coordonnées"),
        (lambda f: f[2].update(key="Bad Key"), "Bad Key", "minuscules"),
        (lambda f: f[0].update(options=[]), "need", "au moins une option"),
        (lambda f: f[3].update(pricing="sites"), "fleet", "plusieurs réponses"),
        (lambda f: f[2].update(pricing="sites"), "employees", "fixe déjà"),
        (lambda f: f[2].update(pricing="horses"), "employees", "existe pas"),
        (lambda f: f[1].update(min=10, max=2), "sites", "dépasse le plus grand"),
        (lambda f: f[0].update(label="  "), "need", "libellé"),
    ],
)
def test_a_configuration_that_cannot_work_is_refused_with_its_reason(ctx, change, key, words):
    fields = _fields()
    change(fields)
    found = _problems(fields)
    assert key in found and words in found[key], found


def test_an_unknown_plan_is_refused(ctx):
    assert "" in _problems(_fields(), plan="platinum")


def test_saving_makes_a_new_version_and_keeps_the_old_one(ctx):
    admin = gen_admin(ctx)
    first = requestform.current()
    fields = _fields()
    fields[0]["label"] = "Votre besoin"
    second = requestform.save(admin, fields, "pro")
    assert second.version_id != first.version_id
    assert requestform.current().fields[0]["label"] == "Votre besoin"
    assert requestform.version(first.version_id).fields[0]["label"] == "Que souhaitez-vous ?"
    assert ctx.scalar(db.select(db.func.count(RequestFormVersion.id))) == 2


def test_conditions_chain_and_hidden_answers_are_dropped(ctx):
    spec = requestform.current()
    shown = requestform.visible_keys(spec, {"need": "callback"})
    assert "callback_slot" in shown and "sites" not in shown and "vehicles" not in shown
    # vehicles hangs on fleet, which hangs on need
    assert "vehicles" in requestform.visible_keys(spec, {"need": "custom_plan", "fleet": "yes"})
    assert "vehicles" not in requestform.visible_keys(spec, {"need": "callback", "fleet": "yes"})
    raw = {"need": "callback", "sites": "40", "callback_slot": "morning"}
    answers, _typed, errors = requestform.read_answers(spec, raw)
    assert answers == {"need": "callback", "callback_slot": "morning"}
    assert errors == {}


def test_required_visible_fields_and_bad_values_are_errors(ctx):
    spec = requestform.current()
    _a, _t, errors = requestform.read_answers(spec, {"need": "custom_plan", "sites": "beaucoup"})
    assert "nombre entier" in errors["sites"]
    assert errors["employees"] == "Ce champ est obligatoire."  # required once shown
    assert "callback_slot" not in errors  # hidden: not asked
    _a, _t, errors = requestform.read_answers(spec, {"need": "autre"})
    assert "need" in errors


def test_the_estimate_is_the_pricing_functions_and_the_checkout_amount(ctx):
    spec = requestform.current()
    raw = {
        "need": "custom_plan",
        "sites": "8",
        "employees": "1 250",
        "fleet": "yes",
        "vehicles": "75",
    }
    # products ticked: three of them
    answers, _t, errors = requestform.read_answers(
        spec, _Multi(raw, products=["ticpe", "urssaf", "foncier"])
    )
    assert errors == {}
    quote, _e = requestform.estimate(spec, answers)
    plan = ctx.scalar(db.select(Plan).where(Plan.code == "enterprise"))
    expected = pricing.quote(plan, {"sites": 8, "employees": 1250, "vehicles": 75, "products": 3})
    assert quote == expected
    # 199 + 3 sites × 25 + 1 050 employees × 0,30 + 25 vehicles × 1,50 = 626,50 € a month
    assert quote.net_cents == 62650
    # and the plans page (which the checkout charges) prices the same numbers the same way
    page_quote = next(
        q for p, q in plans.quotes(expected_params(), pricing.Cycle.MONTH) if p.code == "enterprise"
    )
    assert page_quote.net_cents == quote.net_cents


def expected_params():
    return {"sites": 8, "employees": 1250, "vehicles": 75, "products": 3}


class _Multi(dict):
    """A form's data with a several-answer field (what `request.form` gives)."""

    def __init__(self, raw, **lists):
        super().__init__(raw)
        self.lists = lists

    def getlist(self, key):
        return self.lists.get(key, [self[key]] if key in self else [])


# -- over HTTP -----------------------------------------------------------------------------------


def _sellers(app, n=2):
    return [make_user(app, Role.SALES, email=f"vendeur{i}@example.fr") for i in range(n)]


def test_the_page_shows_the_first_question_and_its_conditions_unfold(client):
    page = client.get("/request").get_data(as_text=True)
    assert "Que souhaitez-vous ?" in page and "Nombre de sites" not in page
    frag = client.get("/request/questions?need=custom_plan", headers=HX).get_data(as_text=True)
    assert 'id="request-questions"' in frag and "Nombre de sites" in frag
    assert "Prix estimé" in frag
    frag = client.get(
        "/request/estimate?need=custom_plan&sites=8&employees=1250", headers=HX
    ).get_data(as_text=True)
    assert frag.startswith('<div id="request-estimate"')
    # 199 + 75 + 315 = 589 €
    assert "589\xa0€" in frag


def test_without_javascript_recompute_shows_the_fields_and_the_price_keeping_the_values(client):
    resp = post(
        client,
        "/request",
        {
            "action": "recompute",
            "need": "custom_plan",
            "sites": "8",
            "employees": "1250",
            "company": "Brasserie Lune",
            "email": "lune@example.fr",
        },
    )
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "589\xa0€" in page and 'value="Brasserie Lune"' in page and 'value="8"' in page


def _submit(client, **extra):
    data = {
        "need": "custom_plan",
        "sites": "8",
        "employees": "1250",
        "company": "Brasserie Lune",
        "contact_name": "Léa Lune",
        "email": "Lea@Example.fr",
        "phone": "06 00 00 00 00",
        "action": "send",
        **extra,
    }
    return post(client, "/request", data)


def test_a_submission_becomes_a_lead_with_its_version_assigned_and_confirmed(
    app, client, smtp, run_jobs
):
    first, second = _sellers(app)
    resp = _submit(client)
    assert resp.status_code == 303 and resp.location.endswith("/request/thanks")
    assert "Merci" in client.get("/request/thanks").get_data(as_text=True)
    _submit(client, email="autre@example.fr", company="Autre SARL")
    run_jobs()
    with app.app_context():
        rows = db.session.scalars(db.select(Lead).order_by(Lead.id)).all()
        assert [r.email for r in rows] == ["lea@example.fr", "autre@example.fr"]
        # round robin: one each
        assert [r.owner_id for r in rows] == [first, second]
        assert rows[0].estimate_cents == 58900 and rows[0].plan_code == "enterprise"
        sub = db.session.scalar(
            db.select(LeadSubmission).where(LeadSubmission.lead_id == rows[0].id)
        )
        assert sub.form_version_id == requestform.current().version_id
        assert sub.answers == {"need": "custom_plan", "sites": 8, "employees": 1250}
        assert sub.params["sites"] == 8 and sub.estimate_cents == 58900
        told = db.session.scalars(
            db.select(Notification.user_id).where(Notification.type == "lead_assigned")
        ).all()
        assert sorted(told) == [first, second]
    assert smtp.to("lea@example.fr"), "the visitor gets a confirmation"


def test_bad_input_comes_back_with_the_values_and_saves_nothing(app, client):
    _sellers(app, 1)
    resp = _submit(client, email="pas-une-adresse", sites="0")
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'value="Brasserie Lune"' in page and 'value="0"' in page
    assert "error-summary" in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0


def test_the_honeypot_stores_nothing_and_answers_like_a_success(app, client, smtp, run_jobs):
    resp = _submit(client, website="http://spam.example")
    assert resp.status_code == 303
    run_jobs()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0
    assert smtp.messages == []


def test_sending_is_rate_limited_but_recomputing_is_not(app, client):
    recomputes = [_submit(client, action="recompute").status_code for _ in range(7)]
    assert recomputes == [200] * 7
    codes = [_submit(client, email=f"n{i}@example.fr").status_code for i in range(6)]
    assert codes == [303] * 5 + [429]


# -- the builder ---------------------------------------------------------------------------------


def _admin(app, client):
    make_user(app, Role.ADMIN, email="admin@example.fr")
    login(client, "admin@example.fr")


def test_an_admin_adds_a_conditional_question_and_visitors_see_it(app, client):
    _admin(app, client)
    resp = post(
        client,
        "/admin/request-form/fields/new",
        {
            "key": "deadline",
            "label": "Pour quand ?",
            "kind": "choice",
            "required": "y",
            "options": "soon | Ce mois-ci\nlater | Plus tard",
            "show_field": "need",
            "show_value": "callback",
            "pricing": "",
        },
    )
    assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
    page = client.get("/request/questions?need=callback", headers=HX).get_data(as_text=True)
    assert "Pour quand ?" in page and "Ce mois-ci" in page


def test_an_unreachable_required_question_is_refused_and_the_typed_values_stay(app, client):
    _admin(app, client)
    # depends on a field added after it: it could never be shown
    resp = post(
        client,
        "/admin/request-form/fields/new",
        {
            "key": "budget",
            "label": "Votre budget",
            "kind": "number",
            "required": "y",
            "show_field": "need",
            "show_value": "jamais",
            "pricing": "",
        },
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "jamais affiché" in page or "ne serait jamais" in page
    assert 'value="Votre budget"' in page
    with app.app_context():
        assert "budget" not in [f["key"] for f in requestform.current().fields]


def test_a_field_others_depend_on_cannot_be_removed(app, client):
    _admin(app, client)
    resp = post(client, "/admin/request-form/fields/need/delete")
    assert resp.status_code == 303
    with app.app_context():
        assert "need" in [f["key"] for f in requestform.current().fields]


def test_moving_a_field_above_what_it_depends_on_is_refused(app, client):
    _admin(app, client)
    post(client, "/admin/request-form/fields/sites/move", {"direction": "up"})
    with app.app_context():
        assert [f["key"] for f in requestform.current().fields][:2] == ["need", "sites"]


def test_the_builder_is_for_admins(app, client):
    make_user(app, Role.SALES, email="v@example.fr")
    login(client, "v@example.fr")
    assert client.get("/admin/request-form").status_code == 403
