"""Form analytics (A12): the simulator and the request form counted by the server (views,
starts, answers with their time, errors per field, completions) and by the page's beacon
(starts, the step a visit was left on), kept as counts per day without personal data, and read
over a period by admins and sellers."""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.core import clock
from app.extensions import db
from app.models import FormEvent, FormStat, Role
from app.services.ops import formstats
from app.web import formtrack
from tests.crm.test_request_form import _submit
from tests.factories import login, make_user, post
from tests.simulator.test_simulator_engine import GOLDEN
from tests.simulator.test_simulator_pages import STEP, answer_step, current_code

NOON = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # noon in Paris


def _report(app, form, start=date(2026, 6, 10), end=date(2026, 6, 10)):
    with app.test_request_context():
        return formstats.report(form, start, end, formtrack.steps_of(form))


def _step(report, code):
    return next(s for s in report.steps if s.code == code)


def test_the_simulator_step_by_step_counts_views_answers_times_and_errors(app, client):
    with clock.frozen(NOON):
        client.get("/simulator")
        page = client.get("/simulator/step", headers=STEP)
        assert current_code(page.get_data(as_text=True)) == "GENERAL_001"
    with clock.frozen(NOON + timedelta(seconds=7)):
        answer_step(client, "GENERAL_001", GOLDEN["GENERAL_001"])
    with clock.frozen(NOON + timedelta(seconds=9)):
        assert answer_step(client, "GENERAL_002", "beaucoup").status_code == 422
    with clock.frozen(NOON + timedelta(seconds=12)):
        answer_step(client, "GENERAL_002", GOLDEN["GENERAL_002"])
        # the visitor goes away on GENERAL_003
    r = _report(app, "simulator")
    assert (r.views, r.starts, r.completions, r.errors) == (1, 1, 0, 1)
    first, second, third = (_step(r, c) for c in ("GENERAL_001", "GENERAL_002", "GENERAL_003"))
    assert (first.views, first.answers, first.average_s) == (1, 1, 7.0)
    # shown once (the refusal showed it again), refused once, answered 5 s after it came up
    assert (second.views, second.answers, second.errors, second.average_s) == (1, 1, 1, 5.0)
    assert second.error_share == 0.5
    assert (third.views, third.answers, third.dropped, third.dropped_share) == (1, 0, 1, 1.0)
    assert r.dropped == 1 and r.completion_share == 0


def test_the_simulator_without_javascript_starts_at_its_first_send(app, client):
    with clock.frozen(NOON):
        client.get("/simulator")
    data = {**GOLDEN, "GENERAL_003": "-2"}
    data.pop("DFS_001")
    with clock.frozen(NOON + timedelta(seconds=50)):
        assert post(client, "/simulator", data).status_code == 422
    with clock.frozen(NOON + timedelta(seconds=80)):
        assert post(client, "/simulator", GOLDEN).status_code == 303
    r = _report(app, "simulator")
    assert (r.views, r.starts, r.completions, r.errors, r.average_s) == (1, 1, 1, 1, 80.0)
    assert _step(r, "GENERAL_003").errors == 1 and _step(r, "DFS_001").errors == 1
    assert _step(r, "GENERAL_001").errors == 0


def test_the_request_form_counts_errors_per_field_and_completions(app, client):
    with clock.frozen(NOON):
        client.get("/request")
        assert _submit(client, email="pas-une-adresse", sites="0").status_code == 422
        assert _submit(client).status_code == 303
        client.get("/request")  # a robot's visit: shown, but its send is not counted
        assert _submit(client, website="http://spam.example").status_code == 303
    r = _report(app, "request")
    assert (r.views, r.starts, r.completions, r.errors) == (2, 1, 1, 1)
    assert _step(r, "email").errors == 1 and _step(r, "sites").errors == 1
    assert _step(r, "company").errors == 0
    assert {s.code for s in r.steps} >= {"need", "sites", "company", "email"}
    with app.app_context():  # counts only: no address, company or answer anywhere
        rows = db.session.execute(db.select(FormStat.step, FormStat.event)).all()
        written = " ".join(f"{s} {e}" for s, e in rows).lower()
        assert "example" not in written and "lune" not in written and "8" not in written


def test_the_beacon_tells_starts_and_where_a_visit_was_left_once(app, client):
    beacon = "/forms/request/beacon"
    with clock.frozen(NOON):
        # a beacon for a visit the server never showed counts nothing
        assert post(client, beacon, {"event": "start"}).status_code == 204
        client.get("/request")
        for _ in range(2):
            assert post(client, beacon, {"event": "start"}).status_code == 204
        for _ in range(2):
            assert post(client, beacon, {"event": "abandon", "step": "email"}).status_code == 204
        client.get("/request")  # a new visit, left on a field that does not exist
        post(client, beacon, {"event": "start"})
        post(client, beacon, {"event": "abandon", "step": "<script>"})
        assert post(client, beacon, {"event": "other"}).status_code == 400
        assert post(client, "/forms/nothing/beacon", {"event": "start"}).status_code == 404
        assert post(client, beacon, {"event": "start"}, csrf=False).status_code == 400
    r = _report(app, "request")
    assert (r.views, r.starts, r.abandons) == (2, 2, 2)
    assert _step(r, "email").abandons == 1
    with app.app_context():
        steps = set(db.session.scalars(db.select(FormStat.step)))
        assert "<script>" not in steps


def test_a_completed_visit_is_not_counted_as_left(app, client):
    with clock.frozen(NOON):
        client.get("/request")
        assert _submit(client).status_code == 303
        post(client, "/forms/request/beacon", {"event": "abandon", "step": "email"})
    r = _report(app, "request")
    assert (r.completions, r.abandons) == (1, 0)


def test_the_period_reads_whole_paris_days(app, client):
    with clock.frozen(datetime(2026, 6, 9, 21, 30, tzinfo=UTC)):  # 23:30 in Paris, the 9th
        client.get("/request")
    with clock.frozen(datetime(2026, 6, 9, 22, 30, tzinfo=UTC)):  # 00:30 in Paris, the 10th
        client.get("/request")
        client.get("/request")
    assert _report(app, "request").views == 2
    assert _report(app, "request", date(2026, 6, 9), date(2026, 6, 9)).views == 1
    with app.app_context():
        days = sorted(db.session.scalars(db.select(FormStat.day).where(FormStat.event == "view")))
        assert days == [date(2026, 6, 9), date(2026, 6, 10)]


def test_visits_at_once_add_to_the_same_cells(app):
    with app.test_request_context(), clock.frozen(NOON):
        for _ in range(3):
            formstats.add("request", [("", FormEvent.VIEW, 0), ("email", FormEvent.ERROR, 0)])
        formstats.add("request", [("", FormEvent.COMPLETE, 1500), ("", FormEvent.COMPLETE, 500)])
        formstats.add("unknown", [("", FormEvent.VIEW, 0)])
    with app.app_context():
        cells = {
            (r.form, r.step, r.event): (r.n, r.total_ms)
            for r in db.session.scalars(db.select(FormStat))
        }
    assert cells == {
        ("request", "", FormEvent.VIEW): (3, 0),
        ("request", "email", FormEvent.ERROR): (3, 0),
        ("request", "", FormEvent.COMPLETE): (2, 2000),
    }


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SALES])
def test_admins_and_sellers_read_the_figures_over_a_period(app, client, role):
    with clock.frozen(NOON):
        client.get("/request")
        _submit(client, email="pas-une-adresse")
    make_user(app, role, email="staff@example.fr")
    login(client, "staff@example.fr")
    page = client.get("/ops/forms?from=2026-06-10&to=2026-06-10")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="forms-request"' in html and 'id="forms-simulator"' in html
    row = html.split('id="forms-request-email"')[1].split("</tr>")[0]
    assert 'data-figure="errors">1' in row
    assert 'value="2026-06-10"' in html  # the period is kept in the form
    empty = client.get("/ops/forms?from=2026-06-11&to=2026-06-12").get_data(as_text=True)
    assert 'data-figure="views">0' in empty


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.CLIENT, Role.EXPERT])
def test_others_do_not_see_the_form_analytics(app, client, role):
    make_user(app, role, email="other@example.fr")
    login(client, "other@example.fr")
    assert client.get("/ops/forms").status_code in (403, 404)


def test_a_visitor_is_sent_to_log_in(client):
    resp = client.get("/ops/forms")
    assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"]
