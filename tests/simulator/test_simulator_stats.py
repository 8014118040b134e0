"""Admin simulator analytics: the funnel of a period, drop-off per question, the filtered list."""

import re
from datetime import timedelta

from app.extensions import db
from app.models import Role, Simulation, utcnow
from tests.factories import login, make_user
from tests.simulator.test_simulator_engine import GOLDEN
from tests.simulator.test_simulator_pages import answer_step, run_steps


def _admin(app):
    client = app.test_client()
    make_user(app, role=Role.ADMIN, email="admin@example.fr")
    login(client, "admin@example.fr")
    return client


def _row(html: str, row_id: str) -> list[str]:
    row = re.search(rf'<tr id="{row_id}">(.*?)</tr>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]


def test_funnel_counts_each_step_and_where_people_stop(app):
    # three visitors: one completes, one stops after the first question, one never answers
    done = app.test_client()
    run_steps(done, GOLDEN)
    partial = app.test_client()
    partial.get("/simulator/step", headers={"HX-Request": "true"})
    answer_step(partial, "GENERAL_001", "Transport et Logistique")
    idle = app.test_client()
    idle.get("/simulator/step", headers={"HX-Request": "true"})
    admin = _admin(app)
    html = admin.get("/admin/simulator").get_data(as_text=True)
    assert _row(html, "funnel-started")[0] == "3"
    first = _row(html, "funnel-GENERAL_001")
    assert first[0] == "2" and first[2] == "1"  # reached by 2, one never answered it
    second = _row(html, "funnel-GENERAL_002")
    assert second[0] == "1" and second[2] == "1"  # the partial visitor stopped here
    assert _row(html, "funnel-completed")[0] == "1"
    assert "<svg" in html


def test_period_excludes_older_simulations(app):
    run_steps(app.test_client(), GOLDEN)
    with app.app_context():
        sim = db.session.scalar(db.select(Simulation))
        sim.created_at = utcnow() - timedelta(days=60)
        db.session.commit()
    admin = _admin(app)
    html = admin.get("/admin/simulator").get_data(as_text=True)
    assert _row(html, "funnel-started")[0] == "0"
    old = (utcnow() - timedelta(days=61)).date().isoformat()
    html = admin.get(f"/admin/simulator?from={old}").get_data(as_text=True)
    assert _row(html, "funnel-started")[0] == "1"
    # a malformed date falls back to the default period instead of failing
    assert admin.get("/admin/simulator?from=yesterday").status_code == 200


def test_simulation_list_filters(app):
    run_steps(app.test_client(), GOLDEN)
    make_user(app, email="client@example.fr")
    client = app.test_client()
    login(client, "client@example.fr")
    client.get("/simulator/step", headers={"HX-Request": "true"})
    admin = _admin(app)
    html = admin.get("/admin/simulator/simulations").get_data(as_text=True)
    assert "client@example.fr" in html and "Visiteur" in html
    html = admin.get("/admin/simulator/simulations?owner=visitor").get_data(as_text=True)
    assert "client@example.fr" not in html and "Visiteur" in html
    html = admin.get(
        "/admin/simulator/simulations?status=draft",
        headers={"HX-Request": "true", "HX-Target": "simulation-rows"},
    ).get_data(as_text=True)
    assert html.startswith('<div class="table-wrap" id="simulation-rows">')
    assert "client@example.fr" in html and not re.search(r"190\s300", html)
    link = re.search(
        r'href="(/simulator/results/[^"]+)"',
        admin.get("/admin/simulator/simulations").get_data(as_text=True),
    ).group(1)
    assert admin.get(link).status_code == 200  # admins may read any result


def test_analytics_are_for_admins_only(app):
    make_user(app, email="client@example.fr")
    client = app.test_client()
    login(client, "client@example.fr")
    assert client.get("/admin/simulator").status_code in (403, 404)
    assert client.get("/admin/simulator/simulations").status_code in (403, 404)
