import re

import pytest

from app.extensions import db
from app.models import ApprovalStatus, AuditLog, ExpertProfile, Notification, ReferrerProfile, Role
from tests.factories import HX, login, make_user, post


@pytest.fixture
def admin_client(app):
    make_user(app, role=Role.ADMIN, email="admin@example.fr")
    c = app.test_client()
    login(c, "admin@example.fr")
    return c


PAGES = ["/admin/", "/admin/approvals", "/admin/users", "/admin/audit", "/admin/emails"]


@pytest.mark.parametrize("role", [Role.CLIENT, Role.EXPERT, Role.REFERRER, Role.ADMIN])
def test_each_role_against_each_page(app, client, role):
    make_user(app, role=role, email=f"{role.value}@example.fr")
    for url in ["/dashboard", *PAGES]:
        assert client.get(url).status_code == 302  # anonymous: to the login page
    login(client, f"{role.value}@example.fr")
    dash = client.get("/dashboard")
    if role == Role.ADMIN:
        assert dash.status_code == 302 and dash.headers["Location"] == "/admin/"
    else:
        assert dash.status_code == 200
        page = dash.get_data(as_text=True)
        if role == Role.CLIENT:
            assert "Transports Test SAS" in page and "simulateur" in page
        else:
            assert "Votre candidature" in page and "Complétude du profil" in page
    for url in PAGES:
        assert client.get(url).status_code == (200 if role == Role.ADMIN else 403)


def test_admin_dashboard_counts_and_fragment(app, admin_client):
    make_user(app, role=Role.EXPERT, email="e1@example.fr")
    make_user(app, role=Role.EXPERT, email="e2@example.fr", approval_status=ApprovalStatus.APPROVED)
    make_user(app, role=Role.REFERRER, email="a1@example.fr")
    make_user(app, role=Role.CLIENT, email="c1@example.fr", company_name="Ferme des Chênes")
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert "Ferme des Chênes" in page and "c1@example.fr" in page
    frag = admin_client.get("/admin/", headers={**HX, "HX-Target": "admin-overview"})
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in body and 'id="admin-overview"' in body
    counts = re.findall(r'<p class="kpi">(\d+)</p>', body)
    assert counts[:2] == ["1", "1"]
    badge = admin_client.get("/admin/approvals/count", headers=HX).get_data(as_text=True)
    assert 'id="queue-count"' in badge and ">2<" in badge
    assert admin_client.get("/admin/approvals/count").status_code == 302


def test_expired_counts_are_served_stale_while_another_process_renews_them(app):
    """The dashboard's full scans are renewed by one caller under a Redis lock; the others keep
    the previous figures instead of all running the same scan at once (a stampede every 5 s
    under load)."""
    from app.extensions import cache
    from app.services.admin.dashboards import platform_counts

    make_user(app, role=Role.CLIENT, email="c1@example.fr")
    with app.app_context():
        assert platform_counts()["users_by_role"]["client"] == 1
    make_user(app, role=Role.CLIENT, email="c2@example.fr")
    key = cache.key_mangler(cache.function_key_generator(None, platform_counts.original)())
    renewing = cache.backend.get_mutex(key)
    assert renewing.acquire(wait=False)  # as if another process were renewing the entry
    cache.invalidate(hard=False)  # the entry has expired, as it does 5 s after it was made
    try:
        with app.app_context():
            assert platform_counts()["users_by_role"]["client"] == 1  # the previous figure, at once
    finally:
        renewing.release()
    with app.app_context():
        assert platform_counts()["users_by_role"]["client"] == 2  # this caller renews it


def test_approve_expert_with_htmx_audits_emails_and_notifies(app, admin_client, run_jobs, smtp):
    expert = make_user(app, role=Role.EXPERT, email="nadia@audit.fr")
    resp = post(admin_client, f"/admin/approvals/expert/{expert}/approve", htmx=True)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="approval-queue"' in body and "<html" not in body
    assert "approvals:changed" in resp.headers["HX-Trigger"]
    assert "toast" in resp.headers["HX-Trigger"]
    with app.app_context():
        profile = db.session.scalar(db.select(ExpertProfile))
        assert profile.approval_status == ApprovalStatus.APPROVED and profile.decided_at
        entry = db.session.scalar(db.select(AuditLog))
        assert (entry.action, entry.target_id, entry.ip) == ("expert.approve", expert, "127.0.0.1")
        note = db.session.scalar(db.select(Notification).where(Notification.user_id == expert))
        assert note.type == "application_approved" and note.priority.value == "high"
    run_jobs()
    [mail] = smtp.to("nadia@audit.fr")
    assert mail["Subject"] == "Votre candidature est acceptée"
    audit = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "expert.approve" in audit and "127.0.0.1" in audit
    # a second decision, by another admin at the same time, loses
    resp = post(admin_client, f"/admin/approvals/expert/{expert}/reject", {"reason": "late"})
    assert resp.status_code == 409 and "déjà été traitée" in resp.get_data(as_text=True)


def test_reject_needs_a_reason_and_emails_it(app, admin_client, run_jobs, smtp):
    referrer = make_user(app, role=Role.REFERRER, email="hugo@courtage.fr")
    resp = post(admin_client, f"/admin/approvals/apporteur/{referrer}/reject", {"reason": ""})
    assert resp.status_code == 422 and "motif du refus" in resp.get_data(as_text=True)
    resp = post(
        admin_client,
        f"/admin/approvals/apporteur/{referrer}/reject",
        {"reason": "Activité hors de notre périmètre."},
    )
    assert resp.status_code == 303 and resp.headers["Location"] == "/admin/approvals"
    run_jobs()
    [mail] = smtp.to("hugo@courtage.fr")
    assert "Activité hors de notre périmètre." in mail.get_body(("plain",)).get_content()
    user = app.test_client()
    login(user, "hugo@courtage.fr")
    page = user.get("/dashboard").get_data(as_text=True)
    assert "Refusé" in page and "Activité hors de notre périmètre." in page


def test_approving_a_referrer_gives_a_referral_code(app, admin_client):
    referrer = make_user(app, role=Role.REFERRER, email="hugo@courtage.fr")
    assert post(admin_client, f"/admin/approvals/apporteur/{referrer}/approve").status_code == 303
    with app.app_context():
        code = db.session.scalar(db.select(ReferrerProfile.affiliation_code))
        assert re.fullmatch(r"AFF\d{6}", code)


def test_unknown_or_wrong_kind_is_404_and_non_admin_403(app, admin_client, client):
    expert = make_user(app, role=Role.EXPERT, email="e@example.fr")
    assert post(admin_client, "/admin/approvals/expert/9999/approve").status_code == 404
    assert post(admin_client, f"/admin/approvals/apporteur/{expert}/approve").status_code == 404
    make_user(app, role=Role.CLIENT, email="c@example.fr")
    login(client, "c@example.fr")
    assert post(client, f"/admin/approvals/expert/{expert}/approve").status_code == 403
    with app.app_context():
        status = db.session.scalar(db.select(ExpertProfile.approval_status))
        assert status == ApprovalStatus.PENDING


def test_users_directory_filters_and_fragment(app, admin_client):
    make_user(app, role=Role.CLIENT, email="zoe@example.fr")
    make_user(app, role=Role.EXPERT, email="yann@example.fr")
    page = admin_client.get("/admin/users?role=expert").get_data(as_text=True)
    assert "yann@example.fr" in page and "zoe@example.fr" not in page
    frag = admin_client.get("/admin/users?q=ZO", headers={**HX, "HX-Target": "user-rows"})
    body = frag.get_data(as_text=True)
    assert "zoe@example.fr" in body and "yann@" not in body and "<html" not in body


def test_outbox_shows_emails_and_html_is_sandboxed(app, admin_client, client, run_jobs):
    post(client, "/password/forgot", {"email": "admin@example.fr"})
    run_jobs()
    page = admin_client.get("/admin/emails").get_data(as_text=True)
    email_id = re.search(r"/admin/emails/(\d+)", page).group(1)
    detail = admin_client.get(f"/admin/emails/{email_id}").get_data(as_text=True)
    assert "/password/reset/" in detail and "Envoyé" in detail
    html = admin_client.get(f"/admin/emails/{email_id}/html")
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert admin_client.get("/admin/emails/999999").status_code == 404
