"""SLA settings: calendars, policies and targets, cadences, an expert's own hours; bad input
refused with the values kept and nothing saved; "recompute open clocks" as a job."""

from datetime import datetime
from zoneinfo import ZoneInfo

from app.core import clock
from app.extensions import db
from app.models import (
    ApprovalStatus,
    AuditLog,
    BusinessCalendar,
    CalendarInterval,
    DossierStatus,
    RecomputeStatus,
    ReminderCadence,
    Role,
    SlaClock,
    SlaPolicy,
    SlaRecompute,
    SlaTarget,
    User,
)
from app.services import sla
from tests.factories import login, make_user, post
from tests.factories.models import gen_dossier

PARIS = ZoneInfo("Europe/Paris")


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def _calendar_form(**days):
    data = {"name": "Plateforme", "region": "FR", "closures": ""}
    data.update({f"day{d}": "09:00-12:30, 14:00-18:00" for d in range(5)})
    data.update(days)
    return data


def _intervals(app):
    with app.app_context():
        return db.session.scalar(
            db.select(db.func.count(CalendarInterval.id))
            .join(BusinessCalendar)
            .where(BusinessCalendar.is_default)
        )


def test_a_bad_calendar_is_refused_with_the_values_kept(client, app):
    make_user(app, Role.ADMIN, email="admin@example.fr")
    login(client, "admin@example.fr")
    before = _intervals(app)
    for bad, message in (
        ({"day1": "09:00-12:30, 12:00-18:00"}, "chevauchent"),
        ({"day2": "14:00-09:00"}, "finir après"),
        ({"day3": "neuf heures"}, "09:00-12:30"),
        ({f"day{d}": "" for d in range(7)}, "au moins un"),
    ):
        resp = post(client, "/admin/sla/calendar", _calendar_form(**bad))
        body = resp.get_data(as_text=True)
        assert resp.status_code == 422 and message in body, (bad, body[:300])
        for value in bad.values():
            if value:
                assert f'value="{value}"' in body  # what was typed comes back
    resp = post(client, "/admin/sla/calendar", _calendar_form(closures="lendemain"))
    assert resp.status_code == 422
    assert _intervals(app) == before  # nothing saved


def test_a_calendar_saved_counts_for_new_clocks_and_is_audited(client, app):
    make_user(app, Role.ADMIN, email="admin@example.fr")
    login(client, "admin@example.fr")
    data = _calendar_form(
        region="57", closures="2027-01-12 Inventaire\n2027-01-13..2027-01-14 Pont", day4=""
    )
    assert post(client, "/admin/sla/calendar", data).status_code == 303
    page = client.get("/admin/sla").get_data(as_text=True)
    assert "Vendredi saint" in page  # Alsace-Moselle's holidays listed
    with app.test_request_context():
        cal = sla.settings.default_calendar()
        assert cal.region == "57" and len(cal.closures) == 2 and len(cal.intervals) == 8
        assert db.session.scalar(
            db.select(AuditLog.action).where(AuditLog.action == "sla.calendar")
        )
        # a clock started on Monday 11 January 2027 skips Tuesday to Friday (closed, no Fridays)
        d = gen_dossier(db.session, status=DossierStatus.PENDING_UPLOAD)
        d.status = DossierStatus.PENDING_ADMIN_VALIDATION
        with clock.frozen(paris("2027-01-11T17:00")):
            sla.on_transition(d, DossierStatus.PENDING_UPLOAD, d.client)
        (c,) = db.session.scalars(db.select(SlaClock)).all()
        assert c.due_at == paris("2027-01-18T11:45")  # 60 min Monday, 165 the next Monday


def _policy(app):
    with app.app_context():
        p = db.session.scalar(db.select(SlaPolicy))
        return p.id, {t.code: t.id for t in p.targets}


def _policy_form(app, **changes):
    policy_id, targets = _policy(app)
    with app.app_context():
        p = db.session.get(SlaPolicy, policy_id)
        data = {"name": p.name, "rank": str(p.rank), "active": "1"}
        for t in p.targets:
            data[f"minutes_{t.id}"] = str(t.business_minutes)
            data[f"warn_{t.id}"] = ""
    data.update(changes)
    return policy_id, targets, data


def test_bad_targets_and_a_policy_that_would_never_apply_are_refused(client, app):
    make_user(app, Role.ADMIN, email="admin@example.fr")
    login(client, "admin@example.fr")
    policy_id, targets, _ = _policy_form(app)
    review = targets["documents_pending_validation"]
    for change, message in (
        ({f"minutes_{review}": "0"}, "au-dessus de 0"),
        ({f"minutes_{review}": "-30"}, "au-dessus de 0"),
        ({f"warn_{review}": "450"}, "avant l&#39;objectif"),
        ({"rank": "douze"}, "nombre entier"),
    ):
        _, _, data = _policy_form(app, **change)
        resp = post(client, f"/admin/sla/policies/{policy_id}", data)
        body = resp.get_data(as_text=True)
        assert resp.status_code == 422 and message in body, (change, body[:500])
    # a second policy ranked after the catch-all default never applies
    with app.app_context():
        other = SlaPolicy(name="Urgent", rank=2000, priority=None)
        other.targets = [
            SlaTarget(code="x", metric="reach_step", party="expert", business_minutes=60)
        ]
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    data = {"name": "Urgent", "rank": "2000", "active": "1", f"minutes_{other_id}": "60"}
    with app.app_context():
        target_id = db.session.get(SlaPolicy, other_id).targets[0].id
    data[f"minutes_{target_id}"] = "60"
    resp = post(client, f"/admin/sla/policies/{other_id}", data)
    assert resp.status_code == 422 and "ne s&#39;appliquerait jamais" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SlaPolicy, policy_id).version == 1  # nothing saved


def test_a_policy_edit_applies_to_new_clocks_then_recompute_moves_the_running(
    client, app, run_jobs
):
    make_user(app, Role.ADMIN, email="admin@example.fr")
    with app.test_request_context(), clock.frozen(paris("2027-01-11T09:00")):
        d = gen_dossier(db.session, status=DossierStatus.PENDING_UPLOAD)
        d.status = DossierStatus.PENDING_ADMIN_VALIDATION
        sla.on_transition(d, DossierStatus.PENDING_UPLOAD, d.client)
        db.session.commit()
    login(client, "admin@example.fr")
    policy_id, targets, data = _policy_form(
        app, **{f"minutes_{_policy(app)[1]['admin_action_required']}": "450"}
    )
    assert post(client, f"/admin/sla/policies/{policy_id}", data).status_code == 303
    with app.app_context():
        (c,) = db.session.scalars(db.select(SlaClock)).all()
        assert c.budget_minutes == 225 and c.policy_version == 1  # a running clock keeps its
    with clock.frozen(paris("2027-01-11T10:00")):
        assert post(client, "/admin/sla/recompute").status_code == 303
        page = client.get("/admin/sla").get_data(as_text=True)
        assert 'id="recompute-progress"' in page
        run_jobs()
    with app.app_context():
        (c,) = db.session.scalars(db.select(SlaClock)).all()
        assert (c.budget_minutes, c.policy_version) == (450, 2)
        assert c.started_at == paris("2027-01-11T09:00") and c.due_at == paris("2027-01-11T18:00")
        row = db.session.scalar(db.select(SlaRecompute))
        assert row.status == RecomputeStatus.DONE and (row.total, row.done, row.changed) == (
            1,
            1,
            1,
        )


def test_cadences_are_validated(client, app):
    make_user(app, Role.ADMIN, email="admin@example.fr")
    login(client, "admin@example.fr")
    with app.app_context():
        cadence_id = db.session.scalar(db.select(ReminderCadence.id).limit(1))
    resp = post(client, f"/admin/sla/cadences/{cadence_id}", {"offsets": "5, 2", "max_count": "3"})
    assert resp.status_code == 422 and 'value="5, 2"' in resp.get_data(as_text=True)
    resp = post(client, f"/admin/sla/cadences/{cadence_id}", {"offsets": "1, 4", "max_count": "2"})
    assert resp.status_code == 303
    with app.app_context():
        c = db.session.get(ReminderCadence, cadence_id)
        assert (c.offsets_days, c.max_count, c.active) == ([1, 4], 2, False)


def test_an_expert_sets_their_hours_and_leave(client, app):
    expert_id = make_user(
        app, Role.EXPERT, email="expert@example.fr", approval_status=ApprovalStatus.APPROVED
    )
    make_user(app, Role.CLIENT, email="client@example.fr")
    login(client, "expert@example.fr")
    assert "09:00-12:30, 14:00-18:00" in client.get("/account/hours").get_data(as_text=True)
    bad = _calendar_form(day0="18:00-20:00, 19:00-21:00")
    assert post(client, "/account/hours", bad).status_code == 422
    good = _calendar_form(closures="2027-01-12..2027-01-15 Congés")
    assert post(client, "/account/hours", good).status_code == 303
    with app.test_request_context():
        expert = db.session.get(User, expert_id)
        d = gen_dossier(db.session, expert=expert, status=DossierStatus.DOCUMENTS_REQUESTED)
        d.status = DossierStatus.DOCUMENTS_SENT
        with clock.frozen(paris("2027-01-11T14:00")):
            sla.on_transition(d, DossierStatus.DOCUMENTS_REQUESTED, d.client)
        (c,) = db.session.scalars(db.select(SlaClock)).all()
        assert c.due_at == paris("2027-01-18T12:30")  # 4 h Monday, leave, 3 h 30 next Monday
    post(client, "/logout")
    login(client, "client@example.fr")
    assert client.get("/account/hours").status_code == 404
    assert client.get("/admin/sla").status_code == 403
