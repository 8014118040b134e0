"""Activities (A11): logged or planned on a lead or a client, each seller's "today and
overdue", overdue tasks chased once through the reminders; and staff accounts: opened by an
admin with a password link, role changes and deactivation ending sessions, never oneself."""

import re
from datetime import timedelta

from app.extensions import db
from app.models import (
    PARIS,
    Activity,
    ActivityKind,
    AuditLog,
    LeadSource,
    Notification,
    Role,
    User,
    utcnow,
)
from app.services.crm import activities, leads
from tests.factories import login, make_user, post
from tests.factories.models import gen_user


def _lead(seller):
    return leads.capture(
        LeadSource.CONTACT, "lea@example.fr", company="Lune", owner=seller, confirm=False
    )


def test_a_task_needs_a_due_date_and_a_subject(ctx):
    seller = gen_user(ctx, Role.SALES)
    lead = _lead(seller)
    try:
        activities.add(seller, kind=ActivityKind.TASK, subject="", lead=lead)
    except Exception as exc:
        assert set(exc.fields) == {"subject", "due_on"}
    else:
        raise AssertionError("accepted")
    call = activities.add(seller, kind=ActivityKind.CALL, subject="Appel", lead=lead)
    assert call.done_at is not None and call.due_at is None  # logged as it happens


def test_the_agenda_shows_overdue_and_today_only_and_reminders_chase_once(ctx, smtp, run_jobs):
    seller = gen_user(ctx, Role.SALES)
    lead = _lead(seller)
    now = utcnow()
    late = activities.add(
        seller,
        kind=ActivityKind.TASK,
        subject="En retard",
        due_at=now - timedelta(hours=3),
        lead=lead,
    )
    soon = activities.add(
        seller,
        kind=ActivityKind.TASK,
        subject="Plus tard",
        due_at=now + timedelta(minutes=1),
        lead=lead,
    )
    activities.add(
        seller,
        kind=ActivityKind.TASK,
        subject="Dans une semaine",
        due_at=now + timedelta(days=7),
        lead=lead,
    )
    agenda = activities.agenda(seller, at=now)
    assert [a.subject for a in agenda["overdue"]] == ["En retard"]
    # due in a minute: today's, unless that minute is past midnight in Paris
    if soon.due_at.astimezone(PARIS).date() == now.astimezone(PARIS).date():
        assert [a.subject for a in agenda["today"]] == ["Plus tard"]
    assert activities.remind_overdue(at=now) == 1
    assert activities.remind_overdue(at=now) == 0  # once
    told = ctx.scalars(db.select(Notification).where(Notification.type == "activity_overdue")).all()
    assert [n.body for n in told] == ["En retard"]
    ctx.commit()
    run_jobs()
    [mail] = smtp.to(seller.email)
    assert "En retard" in smtp.body(mail)
    activities.complete(seller, late)
    assert activities.agenda(seller, at=now)["overdue"] == []


def test_a_task_given_to_a_colleague_tells_them(ctx):
    seller, colleague = gen_user(ctx, Role.SALES), gen_user(ctx, Role.SALES)
    lead = _lead(seller)
    task = activities.add(
        seller,
        kind=ActivityKind.TASK,
        subject="Envoyer le devis",
        due_at=utcnow(),
        lead=lead,
        owner_id=colleague.id,
    )
    assert task.owner_id == colleague.id
    assert (
        ctx.scalar(db.select(Notification.user_id).where(Notification.type == "activity_assigned"))
        == colleague.id
    )


def test_activities_over_http_keep_what_was_typed(app, client):
    seller = make_user(app, Role.SALES, email="vendeur@example.fr")
    with app.test_request_context():
        lead = _lead(db.session.get(User, seller))
        lead_id = lead.id
    login(client, "vendeur@example.fr")
    resp = post(
        client,
        f"/crm/leads/{lead_id}/activities",
        {"kind": "task", "subject": "Relancer", "body": "Avec le devis"},
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert (
        "Une tâche a besoin d&#39;une échéance." in page
        and 'value="Relancer"' in page
        and "Avec le devis" in page
    )
    day = (utcnow() - timedelta(days=1)).date().isoformat()
    resp = post(
        client,
        f"/crm/leads/{lead_id}/activities",
        {"kind": "task", "subject": "Relancer", "due_on": day},
    )
    assert resp.status_code == 303
    page = client.get("/crm/agenda").get_data(as_text=True)
    assert "Relancer" in page
    with app.app_context():
        task_id = db.session.scalar(db.select(Activity.id))
    assert (
        post(
            client, f"/crm/activities/{task_id}/done", {"done": "1", "next": "/crm/agenda"}
        ).status_code
        == 303
    )
    assert "Rien en retard." in client.get("/crm/agenda").get_data(as_text=True)
    assert post(client, "/crm/activities/987654/done").status_code == 404


def test_a_clients_crm_page_takes_activities(app, client):
    make_user(app, Role.SALES, email="vendeur@example.fr")
    client_id = make_user(app, Role.CLIENT, email="client@example.fr")
    login(client, "vendeur@example.fr")
    resp = post(
        client,
        f"/crm/clients/{client_id}/activities",
        {"kind": "note", "subject": "Appelle le mardi"},
    )
    assert resp.status_code == 303
    assert "Appelle le mardi" in client.get(f"/crm/clients/{client_id}").get_data(as_text=True)
    expert = make_user(app, Role.EXPERT, email="expert@example.fr")
    assert client.get(f"/crm/clients/{expert}").status_code == 404  # not a client


# -- staff -----------------------------------------------------------------------------------------


def test_an_admin_opens_a_sellers_account_who_chooses_a_password(app, client, smtp, run_jobs):
    make_user(app, Role.ADMIN, email="admin@example.fr")
    login(client, "admin@example.fr")
    resp = post(
        client,
        "/admin/staff",
        {"first_name": "Sam", "last_name": "Vend", "email": "Sam@Example.fr", "role": "sales"},
    )
    assert resp.status_code == 303
    run_jobs()
    [mail] = smtp.to("sam@example.fr")
    path = re.search(r"http://[^/]+(/\S+)", smtp.body(mail)).group(1)
    seller = app.test_client()
    page = seller.get(path)
    assert page.status_code == 200
    resp = post(seller, path, {"password": "vendre-2026-plus", "confirm": "vendre-2026-plus"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:1000]
    login(seller, "sam@example.fr", "vendre-2026-plus")
    home = seller.get("/dashboard")
    assert home.status_code == 302 and home.location.endswith("/crm/home")
    page = seller.get("/crm/home").get_data(as_text=True)
    assert "Bonjour Sam" in page and 'href="/crm"' in page
    assert seller.get("/dossiers").status_code in (403, 404) or "Dossiers" not in page
    with app.app_context():
        assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "staff.create"))


def test_staff_form_errors_keep_the_values(app, client):
    make_user(app, Role.ADMIN, email="admin@example.fr")
    make_user(app, Role.CLIENT, email="pris@example.fr")
    login(client, "admin@example.fr")
    resp = post(
        client,
        "/admin/staff",
        {"first_name": "Sam", "last_name": "Vend", "email": "pris@example.fr", "role": "sales"},
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Un compte utilise déjà cette adresse." in page and 'value="Sam"' in page
    resp = post(
        client,
        "/admin/staff",
        {"first_name": "Sam", "last_name": "Vend", "email": "s@example.fr", "role": "client"},
    )
    assert resp.status_code == 422


def test_a_role_change_or_deactivation_signs_out_and_an_admin_keeps_their_rights(app, client):
    me = make_user(app, Role.ADMIN, email="admin@example.fr")
    seller = make_user(app, Role.SALES, email="vendeur@example.fr")
    other = app.test_client()
    login(other, "vendeur@example.fr")
    assert other.get("/crm").status_code == 200
    login(client, "admin@example.fr")
    resp = post(client, f"/admin/staff/{seller}", {"role": "support", "active": "y"})
    assert resp.status_code == 303
    assert other.get("/crm").status_code == 302  # signed out
    login(other, "vendeur@example.fr")
    assert other.get("/crm").status_code == 403  # support: no CRM
    post(client, f"/admin/staff/{seller}", {"role": "support"})  # deactivated
    assert other.get("/dashboard").status_code == 302
    resp = post(client, f"/admin/staff/{me}", {"role": "sales", "active": "y"})
    assert resp.status_code == 422 and "vos propres droits" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, me).role == Role.ADMIN
    # a non-staff account is not a staff page
    client_id = make_user(app, Role.CLIENT, email="c@example.fr")
    assert client.get(f"/admin/staff/{client_id}").status_code == 404


def test_staff_pages_are_for_admins(app, client):
    make_user(app, Role.SALES, email="vendeur@example.fr")
    login(client, "vendeur@example.fr")
    assert client.get("/admin/staff").status_code == 403
