"""Plans (A9): the one pricing function against a table, the public page with and without
htmx, admins' edits with bad values coming back, archive versus delete, and the plan's
success-fee rate frozen on a dossier when its audit is validated."""

from datetime import timedelta

import pytest

from app.extensions import db
from app.models import AuditLog, Cycle, Dossier, DossierStatus, Plan, PlanStatus, Role, User, utcnow
from app.services import plans
from app.services.plans import pricing
from tests.factories import HX, login, make_user, post
from tests.factories.models import gen_dossier


def _plan(code):
    return db.session.scalar(db.select(Plan).where(Plan.code == code))


@pytest.mark.parametrize(
    "code, params, cycle, net, vat, total",
    [
        # Starter: free whatever the numbers
        (
            "starter",
            {"sites": 9, "employees": 900, "vehicles": 90, "products": 9},
            "month",
            0,
            0,
            0,
        ),
        # Pro at its included numbers: the base price only
        (
            "pro",
            {"sites": 1, "employees": 20, "vehicles": 5, "products": 3},
            "month",
            4900,
            980,
            5880,
        ),
        # Pro, 3 sites (2 × 15), 25 employees (5 × 0,50), 12 vehicles (7 × 2), 4 products (1 × 5)
        (
            "pro",
            {"sites": 3, "employees": 25, "vehicles": 12, "products": 4},
            "month",
            10050,
            2010,
            12060,
        ),
        # the same for a year: 12 × 100,50 = 1 206 €, less 16,67 % (201,04) = 1 004,96 €
        (
            "pro",
            {"sites": 3, "employees": 25, "vehicles": 12, "products": 4},
            "year",
            100496,
            20099,
            120595,
        ),
        # Enterprise: products cost nothing more; 201 employees is one more at 0,30
        (
            "enterprise",
            {"sites": 5, "employees": 201, "vehicles": 0, "products": 40},
            "month",
            19930,
            3986,
            23916,
        ),
    ],
)
def test_the_pricing_function(ctx, code, params, cycle, net, vat, total):
    q = pricing.quote(_plan(code), params, Cycle(cycle))
    assert (q.net_cents, q.vat_cents, q.total_cents) == (net, vat, total)
    assert sum(line.cents for line in q.lines) == q.monthly_cents


def test_custom_is_on_request_and_numbers_are_read_as_typed(ctx):
    assert pricing.quote(_plan("custom"), pricing.default_params()).on_request
    values, errors = pricing.read_params({"employees": "12\u202f000", "sites": "2", "vehicles": ""})
    assert errors == {} and values["employees"] == 12000 and values["sites"] == 2
    assert values["vehicles"] == pricing.PARAMETERS["vehicles"]["default"]
    values, errors = pricing.read_params({"sites": "0", "employees": "douze", "products": "2,5"})
    assert set(errors) == {"sites", "employees", "products"}


def test_the_plans_page_with_and_without_htmx(client):
    page = client.get("/plans?sites=3&employees=25&vehicles=12&products=4&cycle=month")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="plan-calculator"' in body
    assert 'data-cents="10050"' in body  # Pro for these numbers, from the same function
    assert "Sur mesure" in body and "Starter" in body
    fragment = client.get("/plans?sites=3&cycle=year", headers={**HX, "HX-Target": "plan-prices"})
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="plan-prices"') and "<html" not in text
    # a bad number: the page says which, keeps what was typed, and shows no wrong price
    bad = client.get("/plans?sites=abc").get_data(as_text=True)
    assert 'value="abc"' in bad and 'aria-invalid="true"' in bad and "data-cents" not in bad


def test_a_client_sees_their_plan(app, client):
    make_user(app, Role.CLIENT, email="client@example.fr")
    login(client, "client@example.fr")
    body = client.get("/plans").get_data(as_text=True)
    assert 'class="card plan plan--current" id="plan-starter"' in body


def test_admins_create_and_edit_plans_and_bad_values_come_back(app, client):
    make_user(app, Role.ADMIN, email="admin@example.fr")
    login(client, "admin@example.fr")
    assert client.get("/admin/plans").status_code == 200
    resp = post(
        client,
        "/admin/plans/new",
        {
            "code": "Pro Plus!",
            "name": "Pro Plus",
            "base": "-3",
            "success_fee": "",
            "sites_unit": "x",
        },
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'value="Pro Plus"' in body and 'value="-3"' in body
    with app.app_context():
        assert _plan("pro-plus") is None  # nothing saved
    resp = post(
        client,
        "/admin/plans/new",
        {
            "code": "pro-plus",
            "name": "Pro Plus",
            "base": "79,90",
            "success_fee": "22,5",
            "yearly_discount": "10",
            "sites_included": "2",
            "sites_unit": "12,50",
            "features": "Tout Pro\nUn appel par trimestre",
        },
    )
    assert resp.status_code == 303
    with app.app_context():
        plan = _plan("pro-plus")
        assert (plan.base_cents, plan.success_fee_bp, plan.yearly_discount_bp) == (7990, 2250, 1000)
        assert plan.prices == {"sites": {"included": 2, "unit_cents": 1250}}
        assert plan.features == ["Tout Pro", "Un appel par trimestre"]
        plan_id = plan.id
        assert db.session.scalar(db.select(AuditLog.id).where(AuditLog.action == "plan.create"))
    # a success fee of 0 would invoice nothing: refused, the old value stays
    resp = post(client, f"/admin/plans/{plan_id}", {"name": "Pro Plus", "success_fee": "0"})
    assert resp.status_code == 422
    with app.app_context():
        assert db.session.get(Plan, plan_id).success_fee_bp == 2250


def test_a_plan_with_subscribers_is_archived_one_without_is_deleted(app, client):
    make_user(app, Role.ADMIN, email="admin@example.fr")
    client_id = make_user(app, Role.CLIENT, email="client@example.fr")
    with app.test_request_context():
        pro = _plan("pro")
        sub = plans.start(
            db.session.get(User, client_id), pro, pricing.default_params(), Cycle.MONTH
        )
        plans.activate(sub, None)
        db.session.commit()
        pro_id, custom_id, starter_id = pro.id, _plan("custom").id, _plan("starter").id
    login(client, "admin@example.fr")
    assert post(client, f"/admin/plans/{pro_id}/archive").status_code == 303
    assert post(client, f"/admin/plans/{custom_id}/archive").status_code == 303
    assert post(client, f"/admin/plans/{starter_id}/archive").status_code == 303  # refused, said
    with app.app_context():
        assert db.session.get(Plan, pro_id).status == PlanStatus.ARCHIVED
        assert db.session.get(Plan, custom_id) is None
        assert db.session.get(Plan, starter_id).status == PlanStatus.ACTIVE
        assert plans.plan_code_of(client_id) == "pro"  # the subscriber keeps it
    page = client.get("/plans").get_data(as_text=True)
    assert 'id="plan-pro"' not in page  # nobody new can choose it
    assert post(client, f"/admin/plans/{pro_id}/restore").status_code == 303
    assert 'id="plan-pro"' in client.get("/plans").get_data(as_text=True)


def test_strangers_never_reach_the_admin_pages(app, client):
    make_user(app, Role.CLIENT, email="client@example.fr")
    login(client, "client@example.fr")
    # admin pages are refused to other roles (403, as every admin page); an unknown plan is 404
    assert client.get("/admin/plans").status_code == 403
    assert post(client, "/admin/plans/1/archive").status_code == 403
    make_user(app, Role.ADMIN, email="admin@example.fr")
    client.post("/logout", data={})
    login(client, "admin@example.fr")
    assert client.get("/admin/plans/999999").status_code == 404


def _validate_audit(app, client, email, dossier_id):
    client.post("/logout", data={})
    login(client, email)
    assert post(client, f"/dossiers/{dossier_id}/actions/validate_audit").status_code == 303
    with app.app_context():
        return db.session.get(Dossier, dossier_id).client_fee_bp


def test_the_plans_rate_counts_for_audits_validated_after_it_started(app, client):
    """Pro (25 %) bought before the validation lowers the fee from the expert's 30 %; a
    subscription whose first payment is not confirmed changes nothing."""
    expert_id = make_user(app, Role.EXPERT, email="expert@example.fr")
    pro_id = make_user(app, Role.CLIENT, email="pro@example.fr")
    pending_id = make_user(app, Role.CLIENT, email="pending@example.fr")
    with app.test_request_context():
        expert = db.session.get(User, expert_id)
        ids = {}
        for owner_id in (pro_id, pending_id):
            owner = db.session.get(User, owner_id)
            d = gen_dossier(
                db.session,
                client=owner,
                expert=expert,
                status=DossierStatus.AUDIT_COMPLETED,
                final_cents=2_000_000,
            )
            ids[owner_id] = d.id
            sub = plans.start(owner, _plan("pro"), pricing.default_params(), Cycle.MONTH)
            if owner_id == pro_id:
                plans.activate(
                    sub, utcnow() + timedelta(days=30), at=utcnow() - timedelta(minutes=1)
                )
        db.session.commit()
    assert _validate_audit(app, client, "pro@example.fr", ids[pro_id]) == 2500
    assert _validate_audit(app, client, "pending@example.fr", ids[pending_id]) == 3000
