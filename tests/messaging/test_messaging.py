"""Conversations: contact rules, dossier and support threads, sending with and without htmx,
history pages, reads, system messages from the workflow, signals, authorisation."""

import re

import pytest

from app.extensions import db
from app.models import (
    ApprovalStatus,
    AuditLog,
    Dossier,
    DossierStatus,
    Message,
    MessageKind,
    Product,
    ReferrerStatus,
    Role,
    Thread,
    User,
)
from app.services import messaging, notifications, workflow
from tests.factories import HX, login, make_user, post


@pytest.fixture
def people(app):
    client_id = make_user(app, Role.CLIENT, email="cli@example.fr", first_name="Claire")
    expert_id = make_user(
        app,
        Role.EXPERT,
        email="exp@example.fr",
        first_name="Paul",
        approval_status=ApprovalStatus.APPROVED,
    )
    other_expert = make_user(
        app, Role.EXPERT, email="other@example.fr", approval_status=ApprovalStatus.APPROVED
    )
    referrer = make_user(app, Role.REFERRER, email="app@example.fr")
    referred = make_user(app, Role.CLIENT, email="referred@example.fr", referrer_id=referrer)
    admin = make_user(app, Role.ADMIN, email="adm@example.fr")
    stranger = make_user(app, Role.CLIENT, email="nosy@example.fr")
    with app.app_context():
        product = db.session.scalar(db.select(Product).where(Product.code == "TICPE"))
        dossier = Dossier(
            client_id=client_id,
            product_id=product.id,
            expert_id=expert_id,
            status=DossierStatus.AUDIT_IN_PROGRESS,
        )
        db.session.add(dossier)
        db.session.commit()
        return {
            "client": client_id,
            "expert": expert_id,
            "other_expert": other_expert,
            "apporteur": referrer,
            "referred": referred,
            "admin": admin,
            "stranger": stranger,
            "dossier": dossier.id,
        }


def test_the_contact_rules_matrix(app, people):
    expected = {
        ("client", "expert"): True,  # they share a dossier
        ("expert", "client"): True,
        ("client", "other_expert"): False,
        ("client", "admin"): True,
        ("admin", "stranger"): True,
        ("apporteur", "expert"): False,  # never
        ("expert", "apporteur"): False,
        ("apporteur", "referred"): True,  # the client came through the referrer's link
        ("referred", "apporteur"): True,
        ("apporteur", "client"): False,  # not their client
        ("client", "apporteur"): False,
        ("referred", "expert"): False,
        ("apporteur", "admin"): True,
        ("stranger", "expert"): False,
        ("client", "client"): False,
    }
    with app.app_context():
        users = {k: db.session.get(User, v) for k, v in people.items() if k != "dossier"}
        for (a, b), allowed in expected.items():
            assert messaging.may_contact(users[a], users[b]) is allowed, (a, b)


def _thread_url(client, dossier_id) -> str:
    resp = client.get(f"/messages/dossier/{dossier_id}")
    assert resp.status_code == 302, resp.status_code
    return resp.headers["Location"]


def test_client_and_expert_talk_in_the_dossier_thread(app, client, people):
    login(client, "cli@example.fr")
    url = _thread_url(client, people["dossier"])
    resp = post(client, url, {"body": "Bonjour, voici https://exemple.fr/doc. <b>merci</b>"})
    assert resp.status_code == 303 and re.search(r"#m-\d+$", resp.headers["Location"])
    html = client.get(url).get_data(as_text=True)
    assert '<a href="https://exemple.fr/doc"' in html and "&lt;b&gt;merci&lt;/b&gt;" in html

    client.post("/logout", data={})
    login(client, "exp@example.fr")

    def threads():
        html = client.get("/messages/").get_data(as_text=True)
        return html[html.index('id="threads"') : html.index("</ul>", html.index('id="threads"'))]

    assert "1 non lu" in threads()
    assert client.get(url).status_code == 200  # reading marks it read
    assert "non lu" not in threads()
    # htmx: the form comes back empty and the new message is appended out of band
    with app.app_context():
        last = db.session.scalar(db.select(Message.id).order_by(Message.id.desc()))
    resp = post(
        client,
        url,
        {"body": "Bien reçu", "after": str(last)},
        headers={**HX, "HX-Target": "message-form"},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="message-form"' in html
    assert 'hx-swap-oob="beforeend"' in html and "Bien reçu" in html
    assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*</textarea>', html)

    client.post("/logout", data={})
    login(client, "cli@example.fr")
    resp = client.get(f"{url}/new?after={last}")
    assert "Bien reçu" in resp.get_data(as_text=True)


def test_bad_messages_keep_the_text(app, client, people):
    login(client, "cli@example.fr")
    url = _thread_url(client, people["dossier"])
    assert post(client, url, {"body": "   "}).status_code == 422
    long = "x" * 5001
    resp = post(client, url, {"body": long})
    assert resp.status_code == 422 and long in resp.get_data(as_text=True)
    resp = post(client, url, {"body": long}, headers={**HX, "HX-Target": "message-form"})
    assert resp.status_code == 422 and long in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Message.id))) == 0


def test_strangers_get_404_and_admin_reads_are_audited(app, client, people):
    login(client, "cli@example.fr")
    url = _thread_url(client, people["dossier"])
    post(client, url, {"body": "Privé"})
    client.post("/logout", data={})
    for email in ("nosy@example.fr", "other@example.fr", "app@example.fr"):
        login(client, email)
        assert client.get(url).status_code == 404
        assert post(client, url, {"body": "Intrus"}).status_code == 404
        assert client.get(f"/messages/dossier/{people['dossier']}").status_code == 404
        client.post("/logout", data={})
    login(client, "adm@example.fr")
    assert "Privé" in client.get(url).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(AuditLog.id).where(AuditLog.action == "thread.read"))
        assert db.session.scalar(db.select(Message.body).where(Message.body == "Intrus")) is None


def test_a_post_is_seen_by_the_thread_the_session_already_holds(app, people):
    # the post writes with plain statements, not through the thread's objects: a thread
    # already loaded must not keep its old state (the htmx answer renders it at once)
    with app.test_request_context():
        admin = db.session.get(User, people["admin"])
        thread = messaging.open_dossier_thread(
            people["dossier"], db.session.get(User, people["client"])
        )
        assert admin.id not in {p.user_id for p in thread.participants}
        msg = messaging.post(thread.id, admin, "  Nous regardons votre dossier.  ")
        assert (msg.kind, msg.sender_id, msg.body) == (
            MessageKind.TEXT,
            admin.id,
            "Nous regardons votre dossier.",
        )
        assert thread.last_message_at == msg.created_at
        assert admin.id in {p.user_id for p in thread.participants}  # the admin joined
        assert msg.attachments == []
        thread_id, message_id = thread.id, msg.id
    with app.app_context():
        db.session.expire_all()
        stored = db.session.get(Thread, thread_id)
        assert stored.last_message_at is not None
        assert db.session.get(Message, message_id).thread_id == thread_id


def test_a_thread_reads_as_rows_with_names_and_every_file_once(app, people):
    import io

    from werkzeug.datastructures import FileStorage

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

    def files(*names):
        return [FileStorage(io.BytesIO(pdf), filename=name) for name in names]

    with app.test_request_context():
        cli = db.session.get(User, people["client"])
        exp = db.session.get(User, people["expert"])
        thread = messaging.open_dossier_thread(people["dossier"], cli)
        first = messaging.post(thread.id, cli, "Deux pièces", files("devis.pdf", "kbis.pdf"))
        reply = messaging.post(thread.id, exp, "Reçu")
        last = messaging.post(thread.id, cli, "", files("rib.pdf"))
        items, older = messaging.history(thread, limit=2)
        assert older
        assert [m.body for m in items] == ["Reçu", ""]
        assert [a.original_name for a in items[1].attachments] == ["rib.pdf"]
        items, older = messaging.history(thread, before_id=last.id, limit=2)
        assert [m.id for m in items] == [first.id, reply.id] and not older
        assert [a.original_name for a in items[0].attachments] == ["devis.pdf", "kbis.pdf"]
        assert items[0].sender_name == "Claire" + (" " + cli.last_name if cli.last_name else "")
        assert items[1].attachments == () and items[1].sender_id == exp.id
        # a live refresh for the expert: what came after, without their own
        assert [m.id for m in messaging.newer(thread, first.id, skip_sender=exp.id)] == [last.id]
        assert [m.id for m in messaging.newer(thread, first.id)] == [reply.id, last.id]


def test_support_thread_is_pinned_and_admins_answer(app, client, people):
    login(client, "app@example.fr")
    resp = client.get("/messages/support")
    url = resp.headers["Location"]
    assert post(client, url, {"body": "Comment inviter un client ?"}).status_code == 303
    assert "Support" in client.get("/messages/").get_data(as_text=True)
    client.post("/logout", data={})
    login(client, "adm@example.fr")
    page = client.get("/messages/").get_data(as_text=True)
    assert url in page  # listed among support requests
    assert post(client, url, {"body": "Par votre lien"}).status_code == 303
    client.post("/logout", data={})
    login(client, "nosy@example.fr")
    assert client.get(url).status_code == 404


def test_history_pages_by_thirty(app, client, people):
    with app.test_request_context():
        user = db.session.get(User, people["client"])
        thread = messaging.open_dossier_thread(people["dossier"], user)
        for i in range(65):
            messaging.post(thread.id, user, f"message {i:02d}")
        url = f"/messages/{thread.id}"
    login(client, "cli@example.fr")
    html = client.get(url).get_data(as_text=True)
    assert "message 64" in html and "message 35" in html and "message 34" not in html
    older = re.search(r'href="([^"]+before=\d+)"', html).group(1).replace("&amp;", "&")
    html = client.get(older).get_data(as_text=True)
    assert "message 34" in html and "message 05" in html and "message 04" not in html
    frag = client.get(older, headers={**HX, "HX-Target": "older-messages"}).get_data(as_text=True)
    assert frag.lstrip().startswith('<div id="older-messages">')


def test_transitions_write_system_messages_and_signal(app, people, monkeypatch, run_jobs):
    sent = []
    from app.realtime import notify

    monkeypatch.setattr(notify, "signal", lambda room, event, **ids: sent.append((room, event)))
    with app.test_request_context():
        expert = db.session.get(User, people["expert"])
        workflow.transition(
            people["dossier"], "complete_audit", expert, final_amount="9000", report="Rapport"
        )
    assert (f"user:{people['client']}", "dossier:changed") in sent  # the open pages, at once
    assert (f"user:{people['client']}", "message:new") not in sent  # the thread: the worker's job
    run_jobs()
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(Thread.dossier_id == people["dossier"]))
        msg = db.session.scalar(db.select(Message).where(Message.thread_id == thread.id))
        assert (msg.kind, msg.body) == (MessageKind.SYSTEM, "complete_audit")
    assert (f"user:{people['client']}", "message:new") in sent
    assert (f"user:{people['expert']}", "message:new") in sent  # system: everyone is told


def test_a_flood_of_messages_is_rate_limited(app, client, people, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_MESSAGES", "3 per minute")
    login(client, "cli@example.fr")
    url = _thread_url(client, people["dossier"])
    codes = [post(client, url, {"body": f"spam {i}"}).status_code for i in range(4)]
    assert codes == [303, 303, 303, 429]


def test_search_ignores_accents_highlights_and_stays_in_ones_threads(app, client, people):
    with app.test_request_context():
        cli = db.session.get(User, people["client"])
        thread = messaging.open_dossier_thread(people["dossier"], cli)
        messaging.post(thread.id, cli, "Le montant sera remboursé en mars <script>x</script>")
        messaging.post(thread.id, cli, "Rien à voir")
        nosy = db.session.get(User, people["stranger"])
        own = messaging.open_support_thread(nosy)
        messaging.post(own.id, nosy, "Quand suis-je rembourse ?")
        for i in range(25):
            messaging.post(thread.id, cli, f"Remboursement partiel numéro {i}")
    login(client, "cli@example.fr")
    html = client.get("/messages/search?q=rembourse").get_data(as_text=True)
    assert "<mark>Remboursement</mark> partiel numéro 24" in html  # newest first
    assert "Quand suis-je" not in html  # another user's thread
    assert "Rien à voir" not in html
    more = re.search(r'href="([^"]*before=\d+)"', html).group(1).replace("&amp;", "&")
    html2 = client.get(more).get_data(as_text=True)
    assert "<mark>remboursé</mark> en mars" in html2  # the oldest match is on page 2
    assert "&lt;script&gt;" in html2 and "<script>x" not in html2
    both = html.count("<mark>") + html2.count("<mark>")
    assert both == 26
    assert "Aucun message" in client.get("/messages/search?q=introuvable").get_data(as_text=True)
    client.post("/logout", data={})
    login(client, "nosy@example.fr")
    html = client.get("/messages/search?q=REMBOURSÉ").get_data(as_text=True)
    assert "<mark>rembourse</mark>" in html and "en mars" not in html


def test_attachments_are_checked_and_only_readers_download_them(app, client, people):
    import io

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    exe = b"MZ\x90\x00" + b"\x00" * 200
    login(client, "cli@example.fr")
    url = _thread_url(client, people["dossier"])
    resp = post(
        client,
        url,
        {"body": "Voici le devis", "files": [(io.BytesIO(exe), "devis.pdf")]},
        content_type="multipart/form-data",
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Voici le devis" in html and "devis.pdf" in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Message.id))) == 0
    resp = post(
        client,
        url,
        {"body": "Voici le devis", "files": [(io.BytesIO(pdf), "devis.pdf")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    html = client.get(url).get_data(as_text=True)
    link = re.search(r'href="(/messages/files/\d+)"', html).group(1)
    assert client.get(link).data == pdf
    client.post("/logout", data={})
    login(client, "exp@example.fr")
    assert client.get(link).status_code == 200
    client.post("/logout", data={})
    login(client, "nosy@example.fr")
    assert client.get(link).status_code == 404


def test_a_message_unread_ten_minutes_later_is_emailed_once(app, people, run_jobs, smtp):
    from datetime import timedelta

    from app.models import utcnow

    with app.test_request_context():
        cli = db.session.get(User, people["client"])
        exp = db.session.get(User, people["expert"])
        thread = messaging.open_dossier_thread(people["dossier"], cli)
        first = messaging.post(thread.id, cli, "Pouvez-vous me rappeler demain matin ? " * 5)
        messaging.post(thread.id, cli, "Merci d'avance")
        sent_at = first.created_at
        # nine minutes later nothing is sent; eleven minutes later one email for both messages
        assert messaging.email_unread(now=sent_at + timedelta(minutes=9)) == 0
        assert messaging.email_unread(now=sent_at + timedelta(minutes=11)) == 1
        assert messaging.email_unread(now=sent_at + timedelta(minutes=12)) == 0  # never twice
        # read in time: nothing
        reply = messaging.post(thread.id, exp, "Oui, à 9 h")
        messaging.mark_read(thread, cli, [reply])
        assert messaging.email_unread(now=utcnow() + timedelta(minutes=11)) == 0
        thread_id = thread.id
    run_jobs()
    mails = smtp.to("exp@example.fr")
    assert len(mails) == 1
    body = smtp.body(mails[0])
    assert "2 messages non lus" in body and "Merci d'avance" in body
    assert f"/messages/{thread_id}" in body
    assert smtp.to("cli@example.fr") == []


def test_preferences_quiet_hours_and_digest_shape_message_emails(
    app, client, people, run_jobs, smtp
):
    from datetime import UTC, datetime, timedelta

    from app.models import Notification
    from app.services import notifications
    from app.services.notifications import preferences

    login(client, "exp@example.fr")
    assert client.get("/account/notifications").status_code == 200
    resp = post(client, "/account/notifications", {"on": ["messages:in_app"], "quiet_from": "22"})
    assert resp.status_code == 422 and 'value="22" selected' in resp.get_data(as_text=True)
    # the expert keeps messages in the app only, with quiet hours 22:00 → 07:00
    on = [f"{f}:in_app" for f in preferences.FAMILIES]
    resp = post(client, "/account/notifications", {"on": on, "quiet_from": "22", "quiet_to": "7"})
    assert resp.status_code == 303
    with app.test_request_context():
        exp = db.session.get(User, people["expert"])
        cli = db.session.get(User, people["client"])
        assert preferences.wants(exp, "message", "email") is False
        assert preferences.wants(exp, "dossier_accept", "in_app") is True
        night = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)  # 00:30 in Paris
        assert preferences.in_quiet_hours(exp, night)
        assert not preferences.in_quiet_hours(exp, night + timedelta(hours=8))
        thread = messaging.open_dossier_thread(people["dossier"], cli)
        first = messaging.post(thread.id, cli, "Bonsoir")
        assert messaging.email_unread(now=first.created_at + timedelta(minutes=11)) == 0
        # the client wants emails but not at night; then chooses the daily digest
        preferences.update(cli, {("messages", "email"), ("messages", "in_app")}, "22", "7", False)
        reply = messaging.post(thread.id, exp, "Je regarde demain")
        quiet = datetime.combine(reply.created_at.date(), datetime.min.time(), UTC) + timedelta(
            days=1, hours=23, minutes=30
        )
        assert messaging.email_unread(now=quiet) == 0
        preferences.update(cli, {("messages", "email")}, "", "", True)
        assert messaging.email_unread(now=quiet + timedelta(hours=9)) == 0  # digest instead
        eight = quiet.replace(hour=7, minute=5) + timedelta(days=1)  # 08:05 in Paris (winter)
        assert messaging.send_digests(now=eight - timedelta(hours=1)) == 0
        assert messaging.send_digests(now=eight) == 1
        assert messaging.send_digests(now=eight) == 0  # once
        # in-app off for a family: no notification row at all
        preferences.update(cli, set(), "", "", False)
        assert notifications.create(cli, "invoice_issued", "Facture") is None
        assert db.session.scalar(db.select(db.func.count(Notification.id))) == 0
    run_jobs()
    assert smtp.to("exp@example.fr") == []
    [digest] = smtp.to("cli@example.fr")
    assert "Je regarde demain" in smtp.body(digest)


def test_preferences_are_read_once_per_transaction_and_a_write_is_seen_at_once(app, people):
    """An announcement asks about three channels and the quiet hours of one person: one
    statement. A choice written meanwhile, committed or rolled back, is never answered from an
    old copy."""
    from sqlalchemy import event

    from app.models.preferences import NotificationPreference, NotificationSettings
    from app.services.notifications import preferences

    statements = []
    with app.test_request_context():
        cli = db.session.get(User, people["client"])
        listen = (db.engine, "before_cursor_execute")
        count = lambda *_args: statements.append(1)  # noqa: E731
        event.listen(*listen, count)
        try:
            assert preferences.wants(cli, "invoice_issued", "email") is True
            assert preferences.wants(cli, "dossier_accept", "in_app") is True
            assert preferences.wants(cli, "message", "push") is False
            assert preferences.quiet_end(cli) is None
        finally:
            event.remove(*listen, count)
        assert len(statements) == 1
        row = NotificationPreference(user_id=cli.id, family="money", channel="email", enabled=False)
        db.session.add(row)
        db.session.add(NotificationSettings(user_id=cli.id, quiet_from=0, quiet_to=0))
        db.session.flush()
        assert preferences.wants(cli, "invoice_issued", "email") is False
        assert preferences.choices(cli).quiet_to == 0
        db.session.rollback()
        assert preferences.wants(cli, "invoice_issued", "email") is True
        preferences.update(cli, {("money", "in_app")}, "", "", True)
        assert preferences.wants(cli, "invoice_issued", "email") is False
        assert preferences.choices(cli).daily_digest is True


def test_admins_see_a_users_notification_settings_read_only(app, client, people):
    login(client, "adm@example.fr")
    html = client.get(f"/admin/users/{people['client']}/notifications").get_data(as_text=True)
    assert "cli@example.fr" in html and "<fieldset disabled>" in html
    client.post("/logout", data={})
    login(client, "cli@example.fr")
    assert client.get(f"/admin/users/{people['client']}/notifications").status_code == 403


def test_the_header_badge_counts_unread_messages(app, client, people):
    with app.test_request_context():
        cli = db.session.get(User, people["client"])
        thread = messaging.open_dossier_thread(people["dossier"], cli)
        messaging.post(thread.id, cli, "Un")
        messaging.post(thread.id, cli, "Deux")
        thread_id = thread.id
        # and one notification: a page counts both badges at once, each keeps its own number
        exp = db.session.get(User, people["expert"])
        notifications.create(exp, "dossier_accept", "Un dossier vous attend")
        db.session.commit()
    login(client, "exp@example.fr")
    page = client.get("/messages/").get_data(as_text=True)
    assert re.search(r'id="messages-badge"[^>]*>.*?>\s*2<span', page, re.S)
    assert re.search(r'id="unread-badge"[^>]*>.*?>\s*1<span', page, re.S)
    frag = client.get("/messages/badge", headers={**HX}).get_data(as_text=True)
    assert re.search(r">\s*2<span", frag)
    client.get(f"/messages/{thread_id}")
    frag = client.get("/messages/badge", headers={**HX}).get_data(as_text=True)
    assert "badge--empty" in frag


def test_a_referred_client_and_their_referrer_talk(app, client, people):
    """Through the referrer's link the client is theirs; either opens their thread; nobody
    else can, and a referrer never opens one with an expert."""
    referrer = make_user(
        app,
        Role.REFERRER,
        email="ref-link@example.fr",
        first_name="Rémi",
        status=ReferrerStatus.ACTIVE,
        affiliation_code="AFF123456",
    )
    visitor = app.test_client()
    visitor.get("/?ref=aff123456")
    assert "Recommandé par Rémi" in visitor.get("/register").get_data(as_text=True)
    signup = {
        "first_name": "Zoé",
        "last_name": "Roux",
        "email": "zoe@roux-btp.fr",
        "password": "chantier-2026-x",
        "confirm": "chantier-2026-x",
        "company_name": "Roux BTP",
        "siren": "732 829 320",
        "sector": "BTP et Construction",
        "accept": "y",
    }
    assert post(visitor, "/register", signup).status_code == 303
    with app.app_context():
        zoe = db.session.scalar(db.select(User).where(User.email == "zoe@roux-btp.fr"))
        assert zoe.client_profile.referrer_id == referrer
        zoe_id = zoe.id
    login(visitor, "zoe@roux-btp.fr", "chantier-2026-x")
    page = visitor.get("/dashboard").get_data(as_text=True)
    assert "Votre apporteur" in page and f"/messages/referral/{referrer}" in page
    resp = visitor.get(f"/messages/referral/{referrer}")
    assert resp.status_code == 302
    thread_url = resp.headers["Location"]
    assert post(visitor, thread_url, {"body": "Bonjour Rémi"}).status_code == 303

    login(client, "ref-link@example.fr")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Roux BTP" in page and "http://127.0.0.1" in page and "ref=AFF123456" in page
    assert client.get(f"/messages/referral/{zoe_id}").headers["Location"] == thread_url
    listing = client.get("/messages/").get_data(as_text=True)
    assert "Zoé Roux (Roux BTP)" in listing and "Bonjour Rémi" in listing
    assert client.get(f"/messages/referral/{people['expert']}").status_code == 404
    assert client.get(f"/messages/referral/{people['client']}").status_code == 404  # not theirs

    for email in ("nosy@example.fr", "exp@example.fr", "app@example.fr"):
        other = app.test_client()
        login(other, email)
        assert other.get(thread_url).status_code == 404, email
        assert post(other, thread_url, {"body": "x"}).status_code == 404, email
        assert other.get(f"/messages/referral/{referrer}").status_code == 404, email

    # an unknown or stale code is ignored: the sign-up goes through without a referrer
    late = app.test_client()
    late.get("/register?ref=AFF999999")
    signup.update(email="late@roux-btp.fr")
    assert post(late, "/register", signup).status_code == 303
    with app.app_context():
        late_user = db.session.scalar(db.select(User).where(User.email == "late@roux-btp.fr"))
        assert late_user.client_profile.referrer_id is None


def test_reads_move_only_over_the_others_messages(app, client, people):
    """Posting writes no read mark; what a page shows (on opening, on sending with htmx) is
    read, and the others see "seen"."""
    from app.models import ThreadParticipant

    def mark(user_id):
        with app.app_context():
            return db.session.scalar(
                db.select(ThreadParticipant.last_read_message_id).where(
                    ThreadParticipant.user_id == user_id
                )
            )

    login(client, "cli@example.fr")
    url = _thread_url(client, people["dossier"])
    post(client, url, {"body": "Premier"})
    assert mark(people["client"]) is None  # your own message needs no reading
    with app.app_context():
        thread = db.session.get(Thread, int(url.rsplit("/", 1)[1]))
        expert = db.session.get(User, people["expert"])
        theirs = messaging.post(thread.id, expert, "Réponse de l'expert").id
    # htmx send from a page that last showed "Premier": the expert's reply comes back and is read
    with app.app_context():
        first = db.session.scalar(db.select(Message.id).where(Message.body == "Premier"))
    html = post(
        client,
        url,
        {"body": "Merci", "after": str(first)},
        headers={**HX, "HX-Target": "message-form"},
    ).get_data(as_text=True)
    with app.app_context():
        thanks = db.session.scalar(db.select(Message.id).where(Message.body == "Merci"))
    assert "Réponse de l&#39;expert" in html and mark(people["client"]) == thanks > theirs
    # the expert opens the thread: read up to the client's last message, which shows "seen"
    client.post("/logout", data={})
    login(client, "exp@example.fr")
    client.get(url)
    assert mark(people["expert"]) == thanks
    client.post("/logout", data={})
    login(client, "cli@example.fr")
    assert 'id="seen" class="muted">Vu' in client.get(url).get_data(as_text=True)
