"""Scheduled reports (issue 28 §3): slots at the owner's hour across changes of hour, one run per
slot however many sweeps, each run built, stored, emailed with its file and downloadable for 90
days; a failing run tried again, then its owner told; the form's errors and who may see what."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from app.core import clock, storage
from app.core.errors import ValidationFailed
from app.extensions import db
from app.models import (
    PARIS,
    ApprovalStatus,
    DossierStatus,
    Email,
    Frequency,
    Notification,
    ReportFormat,
    ReportRun,
    RunStatus,
    SavedReport,
    User,
)
from app.services.analytics import schedules
from tests.factories import login, post
from tests.factories.models import gen_admin, gen_dossier, gen_expert


def _report(**fields) -> SavedReport:
    values = dict(
        owner_id=1,
        name="r",
        view="experts",
        frequency=Frequency.DAILY,
        hour=7,
        tz="Europe/Paris",
        recipients=["a@example.fr"],
        format=ReportFormat.XLSX,
    )
    values.update(fields)
    return SavedReport(**values)


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_slots_keep_the_wall_hour_across_the_spring_and_autumn_changes():
    r = _report()
    # 7:00 in Paris is 6:00 UTC in winter and 5:00 UTC in summer
    assert schedules.next_run(r, _utc(2027, 3, 26, 12)) == _utc(2027, 3, 27, 6)
    assert schedules.next_run(r, _utc(2027, 3, 27, 6)) == _utc(2027, 3, 28, 5)
    assert schedules.next_run(r, _utc(2027, 10, 30, 5)) == _utc(2027, 10, 31, 6)


def test_an_hour_the_clocks_skip_runs_once_and_an_hour_twice_runs_once():
    sunday = _report(frequency=Frequency.WEEKLY, weekday=6, hour=2)
    # 28 March 2027: 02:00 does not exist in Paris; the run is at 03:00 CEST (01:00 UTC)
    assert schedules.next_run(sunday, _utc(2027, 3, 27, 12)) == _utc(2027, 3, 28, 1)
    assert schedules.next_run(sunday, _utc(2027, 3, 28, 1)) == _utc(2027, 4, 4, 0)
    # 31 October 2027: 02:00 happens twice; the first (CEST, 00:00 UTC) only
    assert schedules.next_run(sunday, _utc(2027, 10, 30, 12)) == _utc(2027, 10, 31, 0)
    assert schedules.next_run(sunday, _utc(2027, 10, 31, 0)) == _utc(2027, 11, 7, 1)


def test_monthly_on_the_31st_uses_a_short_month_s_last_day_and_other_zones():
    r = _report(frequency=Frequency.MONTHLY, month_day=31, hour=8, tz="Africa/Casablanca")
    # Morocco leaves UTC+1 for UTC+0 during Ramadan (February 2027): 08:00 there is 08:00 UTC
    assert schedules.next_run(r, _utc(2027, 2, 1)) == _utc(2027, 2, 28, 8)
    assert schedules.next_run(r, _utc(2027, 2, 28, 8)) == _utc(2027, 3, 31, 7)
    # the period is the month before the run's day
    assert schedules.period_for(r, _utc(2027, 3, 31, 7)) == (
        datetime(2027, 2, 1).date(),
        datetime(2027, 2, 28).date(),
    )


def _owner(s, expert=False):
    if expert:
        return gen_expert(s, email="owner@example.fr", first_name="Olga", last_name="Roux")
    return gen_admin(s, email="owner@example.fr")


def _save(owner, **data):
    values = {
        "name": "Experts du matin",
        "view": "experts",
        "frequency": "daily",
        "weekday": None,
        "month_day": None,
        "hour": 7,
        "tz": "Europe/Paris",
        "recipients": ["boss@example.fr", "cfo@example.fr"],
        "format": "xlsx",
        "filters": {},
    }
    values.update(data)
    return schedules.save(owner, values)


def test_the_sweeps_make_one_run_per_slot_across_the_change_of_hour(ctx):
    owner = _owner(ctx)
    with clock.frozen(_utc(2027, 3, 26, 12)):
        report = _save(owner)
    assert report.next_run_at == _utc(2027, 3, 27, 6)
    # sweeps by the minute around each slot and through the night of the change
    moments = [_utc(2027, 3, 27, 5, m) for m in range(55, 60)]
    moments += [_utc(2027, 3, 27, 6) + timedelta(minutes=15 * k) for k in range(93)]
    moments += [_utc(2027, 3, 28, 5, m) for m in range(0, 5)]
    for moment in moments:
        with clock.frozen(moment):
            schedules.run_due()
            schedules.run_due()  # a second cron instance, or a sweep that came twice
    slots = ctx.scalars(db.select(ReportRun.scheduled_for).order_by(ReportRun.id)).all()
    assert slots == [_utc(2027, 3, 27, 6), _utc(2027, 3, 28, 5)]  # 07:00 Paris, both days


def test_a_run_is_built_stored_emailed_and_downloadable(app, client, run_jobs, smtp):
    with app.app_context():
        s = db.session
        owner = _owner(s)
        expert = gen_expert(s, first_name="Ana", last_name="Martin")
        now = datetime.now(UTC)
        gen_dossier(
            s,
            expert=expert,
            status=DossierStatus.REFUND_CONFIRMED,
            refunded_at=now - timedelta(days=1),
            obtained_cents=700_000,
        )
        s.commit()
        report = _save(owner)
        run = schedules.send_now(owner, report.id)
        run_id, report_id = run.id, report.id
    run_jobs()
    with app.app_context():
        run = db.session.get(ReportRun, run_id)
        assert run.status == RunStatus.DONE and run.filename.endswith(".xlsx") and run.size > 0
        book = load_workbook(io.BytesIO(storage.read(run.storage_key)))
        assert book.worksheets[1]["A2"].value == "Ana Martin"
        assert book.worksheets[1]["B2"].value == 7000
    for address in ("boss@example.fr", "cfo@example.fr"):
        (message,) = smtp.to(address)
        files = [p for p in message.iter_attachments()]
        assert [f.get_filename() for f in files] == [run.filename]
        assert files[0].get_content()[:2] == b"PK"  # the workbook itself
    # the owner downloads it from the report's page; a stranger gets 404
    login(client, "owner@example.fr")
    page = client.get(f"/analytics/reports/{report_id}").get_data(as_text=True)
    assert "Envoyé" in page and f"/analytics/runs/{run_id}/file" in page
    resp = client.get(f"/analytics/runs/{run_id}/file")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    client.post("/logout", data={"csrf_token": ""})
    with app.app_context():
        gen_admin(db.session, email="other-admin@example.fr")
        gen_expert(db.session, email="stranger@example.fr")
        db.session.commit()
    stranger = app.test_client()
    login(stranger, "stranger@example.fr")
    assert stranger.get(f"/analytics/runs/{run_id}/file").status_code == 404
    assert stranger.get(f"/analytics/reports/{report_id}").status_code == 404
    assert post(stranger, f"/analytics/reports/{report_id}/send").status_code == 404
    assert post(stranger, f"/analytics/reports/{report_id}/delete").status_code == 404


def test_a_failing_run_is_tried_again_then_the_owner_is_told(ctx, smtp):
    owner = _owner(ctx, expert=True)
    report = _save(owner, view="sla")
    run = schedules.send_now(owner, report.id)
    # the owner lost their approval: what they may read is checked at each run, and refused
    owner.expert_profile.approval_status = ApprovalStatus.REJECTED
    ctx.commit()
    assert schedules.deliver(run.id) is False
    assert ctx.get(ReportRun, run.id).status == RunStatus.QUEUED  # tried again in a minute
    assert schedules.deliver(run.id) is False  # then in five
    assert ctx.get(ReportRun, run.id).status == RunStatus.QUEUED
    assert schedules.deliver(run.id) is False
    run = ctx.get(ReportRun, run.id)
    assert run.status == RunStatus.FAILED and run.attempts == 3 and "NotFound" in run.error
    (note,) = ctx.scalars(db.select(Notification).where(Notification.type == "report_failed"))
    assert note.user_id == owner.id and "n’a pas pu être envoyé" in note.title
    emails = ctx.scalars(db.select(Email).where(Email.template == "report_failed")).all()
    assert [e.recipient for e in emails] == ["owner@example.fr"]
    assert schedules.deliver(run.id) is False  # a failed run stays failed
    # nothing reached the recipients
    assert not ctx.scalars(db.select(Email).where(Email.template == "report_ready")).all()


def test_runs_are_kept_90_days(ctx):
    owner = _owner(ctx)
    report = _save(owner)
    key = storage.save("reports", b"PK old", "xlsx")
    old = ReportRun(
        report_id=report.id,
        scheduled_for=_utc(2026, 1, 1),
        status=RunStatus.DONE,
        storage_key=key,
        created_at=datetime.now(UTC) - timedelta(days=91),
    )
    fresh = ReportRun(report_id=report.id, scheduled_for=_utc(2026, 9, 1))
    ctx.add_all([old, fresh])
    ctx.commit()
    assert schedules.purge_old_runs() == 1
    assert ctx.scalars(db.select(ReportRun.id)).all() == [fresh.id]
    assert not storage.path_of(key).exists()


def test_an_expert_schedules_their_own_figures_only(ctx):
    owner = _owner(ctx, expert=True)
    other = gen_expert(ctx)
    report = _save(owner, view="experts", filters={"expert": other.id})
    f = schedules.filters_for(report, _utc(2027, 3, 1, 6))
    assert f.expert_id == owner.id  # the scope wins over what was saved
    with pytest.raises(ValidationFailed) as refused:
        _save(owner, view="funnel")  # not a view of theirs
    assert "view" in refused.value.fields


def test_the_form_refuses_bad_values_and_keeps_them(app, client):
    with app.app_context():
        _owner(db.session)
        db.session.commit()
    login(client, "owner@example.fr")
    page = client.get("/analytics/reports?view=sla&region=69").get_data(as_text=True)
    assert 'value="Respect des délais"' in page and 'value="69"' in page
    resp = post(
        client,
        "/analytics/reports",
        {
            "name": "Mon rapport",
            "view": "sla",
            "frequency": "monthly",
            "month_day": "40",
            "hour": "7",
            "tz": "Europe/Paris",
            "recipients": "boss@example.fr\npas-une-adresse",
            "format": "pdf",
            "region": "69",
        },
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Choisissez un jour entre 1 et 31" in page
    assert "« pas-une-adresse » n’est pas une adresse e-mail." in page
    assert 'value="Mon rapport"' in page and "pas-une-adresse" in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(SavedReport.id))) == 0
    # without the CSRF token: refused
    assert post(client, "/analytics/reports", {"name": "x"}, csrf=False).status_code == 400
    resp = post(
        client,
        "/analytics/reports",
        {
            "name": "Mon rapport",
            "view": "sla",
            "frequency": "weekly",
            "weekday": "0",
            "hour": "7",
            "tz": "Europe/Paris",
            "recipients": "boss@example.fr",
            "format": "pdf",
            "region": "69",
            "owner_id": "999",  # not a declared field: ignored
        },
    )
    assert resp.status_code == 303
    with app.app_context():
        saved = db.session.scalar(db.select(SavedReport))
        assert saved.filters == {"region": "69"} and saved.weekday == 0
        assert db.session.get(User, saved.owner_id).email == "owner@example.fr"
        paris = saved.next_run_at.astimezone(PARIS)
        assert paris.weekday() == 0 and paris.hour == 7


def test_the_owner_sends_now_and_deletes_with_plain_forms_and_the_runs_refresh(app, client):
    with app.app_context():
        report = _save(_owner(db.session))
        report_id = report.id
    login(client, "owner@example.fr")
    resp = post(client, f"/analytics/reports/{report_id}/send")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(
        f"/analytics/reports/{report_id}"
    )
    frag = client.get(
        f"/analytics/reports/{report_id}",
        headers={"HX-Request": "true", "HX-Target": "report-runs"},
    )
    body = frag.get_data(as_text=True)
    assert (
        body.lstrip().startswith('<section class="card" id="report-runs"') and "<html" not in body
    )
    assert "envoyé à la main" in body and "En attente" in body
    assert post(client, f"/analytics/reports/{report_id}/send", csrf=False).status_code == 400
    resp = post(client, f"/analytics/reports/{report_id}/delete")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/analytics/reports")
    with app.app_context():
        assert db.session.get(SavedReport, report_id) is None
        assert db.session.scalar(db.select(db.func.count(ReportRun.id))) == 0
