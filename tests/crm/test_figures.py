"""The CRM's figures (A11) against a small history with known answers, the page (SVG charts
with their tables) and the Excel export with its charts."""

import io
from datetime import date, datetime

from openpyxl import load_workbook

from app.core import clock
from app.models import PARIS, LeadSource, LeadStage, Role
from app.services.crm import figures, leads
from tests.factories import login, make_user
from tests.factories.models import gen_user


def _at(day, hour=10):
    return datetime(2027, 1, day, hour, tzinfo=PARIS)


def _history(ctx):
    ana, bob = (
        gen_user(ctx, Role.SALES, first_name="Ana"),
        gen_user(ctx, Role.SALES, first_name="Bob"),
    )
    plan = [
        # (arrival day, source, seller, [(day, stage)], won yearly cents)
        (
            4,
            LeadSource.REQUEST_FORM,
            ana,
            [(5, "contacted"), (7, "qualified"), (9, "proposal"), (11, "won")],
            120_000,
        ),
        (4, LeadSource.REQUEST_FORM, ana, [(6, "contacted"), (8, "lost")], None),
        (5, LeadSource.CONTACT, bob, [(5, "won")], 60_000),  # straight to won: passed every step
        (6, LeadSource.CONTACT, bob, [(10, "contacted")], None),
        (6, LeadSource.SIMULATOR, bob, [], None),
    ]
    for i, (day, source, seller, moves, won) in enumerate(plan):
        with clock.frozen(_at(day, 9)):
            lead = leads.capture(source, f"p{i}@example.fr", owner=seller, confirm=False)
        for move_day, stage in moves:
            with clock.frozen(_at(move_day)):
                leads.move(seller, lead, LeadStage(stage), "Trop cher", won_cents=won)
    # outside the period: not counted
    with clock.frozen(datetime(2026, 12, 1, 10, tzinfo=PARIS)):
        leads.capture(LeadSource.CONTACT, "old@example.fr", owner=ana, confirm=False)
    return ana


def test_the_figures_of_a_known_history(ctx):
    ana = _history(ctx)
    r = figures.report(ana, date(2027, 1, 1), date(2027, 1, 31))
    assert r["total"] == 5
    assert dict(r["by_stage"]) == {
        "new": 1,
        "contacted": 1,
        "qualified": 0,
        "proposal": 0,
        "won": 2,
        "lost": 1,
    }
    by_source = {x["source"]: x for x in r["by_source"]}
    assert (by_source["request_form"]["leads"], by_source["request_form"]["won"]) == (2, 1)
    assert by_source["contact"]["rate"] == 0.5 and by_source["simulator"]["won"] == 0
    funnel = {x["stage"]: x for x in r["funnel"]}
    # reached contacted or later: 4 (the simulator one never moved); qualified+: 2; won: 2
    assert [funnel[s]["reached"] for s in ("new", "contacted", "qualified", "proposal", "won")] == [
        5,
        4,
        2,
        2,
        2,
    ]
    assert funnel["new"]["next_rate"] == 0.8 and funnel["contacted"]["next_rate"] == 0.5
    time = {x["stage"]: x for x in r["time_in_stage"]}
    # in "new": 1 day 1 h, 2 days 1 h, 1 h, 4 days 1 h → 7 days 4 h / 4 = 1.79 days
    assert time["new"]["moves"] == 4 and abs(time["new"]["days"] - (7 + 4 / 24) / 4) < 1e-6
    assert time["qualified"]["days"] == 2.0 and time["proposal"]["days"] == 2.0
    assert r["won_by_month"] == [{"month": "2027-01", "won": 2, "cents": 180_000}]
    assert [(x["name"].split()[0], x["won"], x["cents"]) for x in r["leaderboard"]] == [
        ("Ana", 1, 120_000),
        ("Bob", 1, 60_000),
    ]


def test_the_page_and_the_excel_export(app, client):
    with app.test_request_context():
        from app.extensions import db

        _history(db.session)
    make_user(app, Role.SALES, email="vendeur@example.fr")
    login(client, "vendeur@example.fr")
    page = client.get("/crm/figures?from=2027-01-01&to=2027-01-31").get_data(as_text=True)
    assert page.count('<svg class="chart"') == 6 and page.count("<table>") == 6
    assert "5 prospects sont arrivés sur la période." in page
    resp = client.get("/crm/figures.xlsx?from=2027-01-01&to=2027-01-31")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith(
        "application/vnd.openxml"
    )
    book = load_workbook(io.BytesIO(resp.data))
    assert len(book.sheetnames) == 6
    stages = book[book.sheetnames[0]]
    assert [c.value for c in stages["B"]][1:] == [1, 1, 0, 0, 2, 1]
    assert len(stages._charts) == 1
    other = app.test_client()
    make_user(app, Role.SUPPORT, email="support@example.fr")
    login(other, "support@example.fr")
    assert other.get("/crm/figures").status_code == 403
