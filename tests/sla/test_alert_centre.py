"""The alert centre over HTTP (with and without htmx), who sees which alert, and the time-travel
command `flask sla sweep --at`."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.core import clock
from app.core.errors import NotFound
from app.extensions import db
from app.models import (
    Alert,
    AlertNote,
    AlertStatus,
    AuditLog,
    DossierStatus,
    Level,
    Reminder,
    Role,
    SlaClock,
    User,
)
from app.services import sla
from tests.factories import HX, login, make_user, post
from tests.factories.models import gen_dossier, gen_firm

PARIS = ZoneInfo("Europe/Paris")


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.fixture
def late(app):
    """A documents review breached at Monday 18:00 and swept the next Monday (level 3)."""
    admin_id = make_user(app, Role.ADMIN, email="admin@example.fr")
    expert_id = make_user(app, Role.EXPERT, email="expert@example.fr")
    manager_id = make_user(app, Role.EXPERT, email="manager@example.fr")
    make_user(app, Role.EXPERT, email="stranger@example.fr")
    client_id = make_user(app, Role.CLIENT, email="client@example.fr")
    with app.test_request_context():
        expert, client = db.session.get(User, expert_id), db.session.get(User, client_id)
        gen_firm(db.session, owner=db.session.get(User, manager_id), members=[expert])
        with clock.frozen(paris("2027-01-11T09:00")):  # its rows' times too
            d = gen_dossier(
                db.session, client=client, expert=expert, status=DossierStatus.DOCUMENTS_SENT
            )
            sla.on_transition(d, DossierStatus.DOCUMENTS_REQUESTED, client)
        db.session.commit()
        with clock.frozen(paris("2027-01-18T09:00")):
            sla.sweep()
        alert_id = db.session.scalar(db.select(Alert.id))
        dossier_id = d.id
    return {"alert": alert_id, "dossier": dossier_id, "admin": admin_id, "expert": expert_id}


def test_the_list_without_and_with_htmx(client, late):
    login(client, "admin@example.fr")
    page = client.get("/admin/alerts").get_data(as_text=True)
    assert f'id="alert-{late["alert"]}"' in page
    assert "review of the documents sent" in page or "examen des documents" in page.lower()
    assert 'id="alert-count"' in page  # the badge in the navigation
    fragment = client.get(
        "/admin/alerts?status=resolved", headers={**HX, "HX-Target": "alert-list"}
    )
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="alert-list"')
    assert f'id="alert-{late["alert"]}"' not in body  # not resolved yet
    assert "<html" not in body


def test_acknowledge_assign_note_and_resolve_without_javascript(client, app, late):
    login(client, "admin@example.fr")
    url = f"/admin/alerts/{late['alert']}"
    assert post(client, url + "/acknowledge").status_code == 303
    assert post(client, url + "/assign", {"assignee_id": str(late["admin"])}).status_code == 303
    # a critical alert is not resolved without a note; the page comes back with what was typed
    resp = post(client, url + "/resolve", {"body": "   "})
    assert resp.status_code == 422
    assert "note" in resp.get_data(as_text=True).lower()
    assert post(client, url + "/note", {"body": "Appelé l'expert"}).status_code == 303
    resp = post(client, url + "/resolve", {"body": "Réassigné à un autre expert"})
    assert resp.status_code == 303
    with app.app_context():
        alert = db.session.get(Alert, late["alert"])
        assert alert.level == Level.THIRD
        assert alert.status == AlertStatus.RESOLVED and not alert.closed_by_itself
        assert (alert.acknowledged_by_id, alert.assignee_id, alert.resolved_by_id) == (
            late["admin"],
            late["admin"],
            late["admin"],
        )
        notes = db.session.scalars(db.select(AlertNote.body).order_by(AlertNote.id)).all()
        assert notes == ["Appelé l'expert", "Réassigné à un autre expert"]
        actions = set(db.session.scalars(db.select(AuditLog.action)))
        assert {"alert.acknowledge", "alert.assign", "alert.note", "alert.resolve"} <= actions


def test_htmx_actions_navigate_to_the_alert(client, late):
    login(client, "admin@example.fr")
    resp = post(client, f"/admin/alerts/{late['alert']}/acknowledge", htmx=True)
    assert (
        resp.status_code == 204 and f"/admin/alerts/{late['alert']}" in resp.headers["HX-Location"]
    )


def test_assigning_to_someone_who_is_not_an_admin_is_refused(client, late):
    login(client, "admin@example.fr")
    resp = post(
        client, f"/admin/alerts/{late['alert']}/assign", {"assignee_id": str(late["expert"])}
    )
    assert resp.status_code == 422


def test_experts_and_strangers(client, app, late):
    with app.test_request_context():
        expert = db.session.get(User, late["expert"])
        manager = db.session.scalar(db.select(User).where(User.email == "manager@example.fr"))
        stranger = db.session.scalar(db.select(User).where(User.email == "stranger@example.fr"))
        assert sla.alerts.get(expert, late["alert"]).id == late["alert"]
        assert sla.alerts.get(manager, late["alert"]).id == late["alert"]  # their firm's
        assert [a.id for a, _ in sla.alerts.listing(stranger)[0]] == []
        with pytest.raises(NotFound):
            sla.alerts.get(stranger, late["alert"])
    # the admin area is closed to everyone else as a whole, whatever the alert (nothing learnt)
    login(client, "stranger@example.fr")
    assert client.get(f"/admin/alerts/{late['alert']}").status_code == 403
    assert client.get("/admin/alerts/999999").status_code == 403
    assert post(client, f"/admin/alerts/{late['alert']}/resolve", {"body": "x"}).status_code == 403


def test_sweep_at_prints_what_it_did_then_nothing(app, late):
    with app.test_request_context(), clock.frozen(paris("2027-01-11T09:00")):
        d = gen_dossier(
            db.session,
            client=db.session.scalar(db.select(User).where(User.email == "client@example.fr")),
            product="URSSAF",
            status=DossierStatus.PENDING_ADMIN_VALIDATION,
        )
        sla.on_transition(d, DossierStatus.PENDING_UPLOAD, d.client)
        db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["sla", "sweep", "--at", "2027-01-15T09:00"])
    assert first.exit_code == 0, first.output
    # J+4: the expert's review (J+2 rung) and the admins' first review (J+3 rung); the
    # admins' eligibility check is late
    assert first.output.strip() == "sent 2 reminders, opened 1 alerts, closed 0 alerts"
    again = runner.invoke(args=["sla", "sweep", "--at", "2027-01-15T09:00"])
    assert again.output.strip() == "sent 0 reminders, opened 0 alerts, closed 0 alerts"
    bad = runner.invoke(args=["sla", "sweep", "--at", "demain"])
    assert bad.exit_code != 0 and "ISO 8601" in bad.output


def test_the_client_sees_when_to_expect_a_reply_then_an_honest_delay(client, app, late):
    login(client, "client@example.fr")
    url = f"/dossiers/{late['dossier']}"
    with clock.frozen(paris("2027-01-11T10:00")):
        page = client.get(url).get_data(as_text=True)
    # the review was due Monday 18:00 (Paris): 17:00 UTC
    assert '<time class="expected-reply" datetime="2027-01-11T17:00:00+00:00">' in page
    assert "expected--late" not in page
    with clock.frozen(paris("2027-01-18T10:00")):
        page = client.get(url).get_data(as_text=True)
    assert "sla--late" in page and "expected--late" in page
    # a new estimate: one business day from now (Tuesday 10:00 Paris)
    assert '<time class="expected-reply" datetime="2027-01-19T09:00:00+00:00">' in page


def test_the_expert_sees_their_own_deadline(client, late):
    login(client, "expert@example.fr")
    with clock.frozen(paris("2027-01-11T10:00")):
        page = client.get(f"/dossiers/{late['dossier']}").get_data(as_text=True)
    assert "expected-reply" not in page
    assert 'datetime="2027-01-11T17:00:00+00:00"' in page


def test_remind_now_from_the_dossier_page_and_everyone_overdue(client, app, late, run_jobs):
    with app.test_request_context(), clock.frozen(paris("2027-01-11T09:00")):
        c = db.session.scalar(db.select(User).where(User.email == "client@example.fr"))
        e = db.session.get(User, late["expert"])
        d = gen_dossier(
            db.session,
            client=c,
            product="URSSAF",
            expert=e,
            status=DossierStatus.DOCUMENTS_REQUESTED,
        )
        sla.on_transition(d, DossierStatus.DOCUMENTS_VALIDATED, e)
        db.session.commit()
        dossier_id = d.id
    login(client, "expert@example.fr")
    page = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert f'action="/dossiers/{dossier_id}/remind"' in page
    assert post(client, f"/dossiers/{dossier_id}/remind").status_code == 303
    assert post(client, f"/dossiers/{dossier_id}/remind").status_code == 409  # within the hour
    post(client, "/logout")
    login(client, "stranger@example.fr")
    assert post(client, f"/dossiers/{dossier_id}/remind").status_code == 404
    post(client, "/logout")
    login(client, "admin@example.fr")
    with clock.frozen(paris("2027-02-01T10:00")):
        assert post(client, "/admin/alerts/remind-overdue").status_code == 303
        run_jobs()
    with app.app_context():
        manual = db.session.scalars(
            db.select(Reminder.source).where(Reminder.dossier_id == dossier_id)
        ).all()
        assert manual.count("manual") == 2  # the expert's, then the admin's round


def test_the_badge_stops_counting_at_a_hundred(app, client, late):
    """At scale there are 100 000 open alerts: the navigation's badge counts to 100 and reads
    "99+" (the list's own filters and pages are unchanged)."""
    with app.app_context():
        first = db.session.get(Alert, late["alert"])
        clock_row = db.session.get(SlaClock, first.clock_id)
        copied = {
            c.key: getattr(clock_row, c.key) for c in SlaClock.__table__.columns if c.key != "id"
        }
        for cycle in range(2, 122):  # one alert per clock, one clock per (dossier, code, cycle)
            twin = SlaClock(**{**copied, "cycle": cycle})
            db.session.add(twin)
            db.session.flush()
            db.session.add(
                Alert(
                    clock_id=twin.id,
                    dossier_id=first.dossier_id,
                    level=first.level,
                    party=first.party,
                    code=first.code,
                    status=AlertStatus.OPEN,
                    opened_at=first.opened_at,
                    updated_at=first.updated_at,
                )
            )
        db.session.commit()
        assert sla.alerts.active_count(db.session.get(User, late["admin"])) == 121
        assert sla.alerts.active_count(db.session.get(User, late["admin"]), at_most=100) == 100
    login(client, "admin@example.fr")
    badge = client.get("/admin/alerts/count", headers=HX).get_data(as_text=True)
    assert "99+" in badge
    page = client.get("/admin/alerts").get_data(as_text=True)
    assert page.count("99+") == 2  # the navigation and the list's heading
