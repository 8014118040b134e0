import re

from flask_migrate import check as migrate_check

from app.extensions import db
from app.factory import create_app
from app.models import Email, EmailStatus, Notification, Role, User, utcnow
from tests.factories import HX, csrf_token, make_user, post


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json == {"status": "ok"}
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.json["checks"] == {"database": "ok", "redis": "ok", "storage": "ok"}


def test_readyz_503_when_redis_is_down():
    broken = create_app(TESTING=True, REDIS_URL="redis://127.0.0.1:1/0")
    resp = broken.test_client().get("/readyz")
    assert resp.status_code == 503 and resp.json["checks"]["redis"].startswith("error")


def test_no_drift_between_models_and_migrations(app):
    with app.app_context():
        migrate_check()  # raises when autogenerate would produce operations


def test_a_connection_the_server_dropped_is_replaced_before_a_request_uses_it(app, client):
    """A PostgreSQL restart or a killed backend leaves dead connections in every process's
    pool; the next request must get a fresh one, not an error page."""
    import time

    import pytest
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has no server to drop the connection")
        pid = db.session.execute(db.text("SELECT pg_backend_pid()")).scalar()
        db.session.remove()  # back to the pool, idle
        outside = create_engine(db.engine.url, poolclass=NullPool)  # not from the same pool
        with outside.connect() as other:
            # with a timeout it returns once the backend has exited (its goodbye sent and its
            # socket closed), not once it is signalled: on a busy machine the backend may take
            # longer than any fixed sleep to act on the signal
            ended = other.execute(
                db.text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}
            ).scalar()
            assert ended
        outside.dispose()
        time.sleep(0.05)  # the closed socket's end reaches the pooled connection (loopback)
    make_user(app, email="after-drop@example.fr")  # the pooled connection, checked out again
    with app.app_context():
        assert db.session.execute(db.text("SELECT pg_backend_pid()")).scalar() != pid


def test_request_id_and_security_headers(client):
    resp = client.get("/login", headers={"X-Request-ID": "abc123"})
    assert resp.headers["X-Request-ID"] == "abc123"
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "HttpOnly" in resp.headers.get("Set-Cookie", "HttpOnly")


def test_a_slow_request_is_logged_with_what_it_waited_on():
    """Over SLOW_REQUEST_MS a request is a warning that says how much of its time was SQL and
    how much the garbage collector stopped its process; under it, nothing is warned."""
    import gc
    import logging

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    def build(slow_ms):
        app = create_app(TESTING=True, SLOW_REQUEST_MS=slow_ms)

        @app.get("/_probe")
        def probe():
            db.session.execute(db.text("SELECT 1"))
            db.session.execute(db.text("SELECT 2"))
            gc.collect()
            return "ok"

        return app

    access = logging.getLogger("financialtracker.access")
    handler = Keep(level=logging.WARNING)
    access.addHandler(handler)
    try:
        assert build(10_000).test_client().get("/_probe").status_code == 200
        assert records == []  # a quick request is no warning
        assert build(0).test_client().get("/_probe").status_code == 200
    finally:
        access.removeHandler(handler)
    (slow,) = records
    assert slow.getMessage().startswith("slow request GET /_probe: ") and slow.path == "/_probe"
    assert "in 2 statements" in slow.getMessage()
    assert slow.sql_statements == 2 and 0 < slow.sql_ms <= slow.ms
    assert 0 < slow.gc_ms <= slow.ms  # the full collection happened within the request


def test_error_pages_full_and_fragment(client):
    full = client.get("/does-not-exist")
    assert full.status_code == 404 and "<html" in full.get_data(as_text=True)
    frag = client.get("/does-not-exist", headers=HX)
    body = frag.get_data(as_text=True)
    assert frag.status_code == 404 and "<html" not in body and "data-error-text" in body
    assert client.put("/login").status_code == 405
    assert "Page introuvable" in full.get_data(as_text=True)


def test_language_switch_and_locale_formats(app, client):
    make_user(app, email="x@example.fr")
    resp = client.post(
        "/locale", data={"locale": "en", "next": "/login", "csrf_token": csrf_token(client)}
    )
    assert resp.status_code == 303 and resp.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page and "<h1>Log in</h1>" in page
    with app.test_request_context():
        from flask_babel import force_locale, format_currency

        with force_locale("fr"):
            assert format_currency(1234.56, "EUR") == "1\u202f234,56\xa0€"
        with force_locale("en"):
            assert format_currency(1234.56, "EUR") == "€1,234.56"


def test_templates_follow_a_locale_forced_within_the_request(app):
    """Emails and invoices render in another language than the page's, in the same request:
    `_()`, the number and the date filters must not keep the language they saw first."""
    from datetime import UTC, datetime

    from flask import render_template_string
    from flask_babel import force_locale

    source = "{{ _('Log in') }} {{ 1500.5|number_input }} {{ at|datetimeformat('short') }}"
    at = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        french = render_template_string(source, at=at)
        assert french == "Se connecter 1\u202f500,5 03/11/2026 15:05"  # Paris time
        with force_locale("en"):
            english = render_template_string(source, at=at)
            assert english.startswith("Log in 1,500.5 11/3/26, 3:05")
        assert render_template_string(source, at=at) == french


def test_email_job_fails_once_then_succeeds_on_retry(app, client, run_jobs, smtp):
    make_user(app, email="retry@example.fr")
    smtp.fail_next = 1
    post(client, "/password/forgot", {"email": "retry@example.fr"})
    run_jobs()
    with app.app_context():
        email = db.session.scalar(db.select(Email))
        assert email.status == EmailStatus.SENT and email.attempts == 2 and email.sent_at
    assert len(smtp.to("retry@example.fr")) == 1


def test_email_marked_failed_after_all_retries(app, client, run_jobs, smtp):
    make_user(app, email="down@example.fr")
    smtp.fail_next = 10
    post(client, "/password/forgot", {"email": "down@example.fr"})
    run_jobs()
    with app.app_context():
        email = db.session.scalar(db.select(Email))
        assert email.status == EmailStatus.FAILED and email.attempts == 4
        assert "451" in email.last_error


def test_sweeps_purge_and_remind(app, run_jobs):
    from datetime import timedelta

    from app.core.jobs import enqueue

    old = make_user(
        app, email="late@example.fr", verified=False, created_at=utcnow() - timedelta(hours=30)
    )
    make_user(app, email="fresh@example.fr", verified=False)
    with app.app_context():
        enqueue("default", "app.services.accounts.jobs.remind_unverified_emails")
        enqueue("default", "app.services.accounts.jobs.remind_unverified_emails")  # idempotent
        enqueue("default", "app.services.accounts.jobs.purge_reset_tokens")
    run_jobs()
    with app.app_context():
        rows = db.session.scalars(db.select(Notification)).all()
        assert [n.user_id for n in rows] == [old]


def test_seed_demo_is_idempotent(app):
    from app.models import (
        Activity,
        Dossier,
        DossierStatus,
        FormStat,
        Invoice,
        Lead,
        LeadStage,
        Message,
        Thread,
        ThreadKind,
        Ticket,
        TicketStatus,
    )

    runner = app.test_cli_runner()
    totals = []
    for _ in range(2):
        result = runner.invoke(args=["seed", "demo"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            totals.append(
                (
                    db.session.scalar(db.select(db.func.count(Notification.id))),
                    db.session.scalar(db.select(db.func.count(Dossier.id))),
                    db.session.scalar(db.select(db.func.count(Message.id))),
                    db.session.scalar(db.select(db.func.count(Lead.id))),
                    db.session.scalar(db.select(db.func.count(Activity.id))),
                    db.session.scalar(db.select(db.func.count(Ticket.id))),
                    db.session.scalar(db.select(db.func.sum(FormStat.n))),
                )
            )
    assert totals[0] == totals[1]
    assert totals[0][-1] > 1000  # two weeks of form visits for /ops/forms
    with app.app_context():
        counts = dict(
            db.session.execute(
                db.select(User.role, db.func.count(User.id)).group_by(User.role)
            ).all()
        )
        assert counts == {
            Role.ADMIN: 1,
            Role.EXPERT: 4,
            Role.CLIENT: 5,
            Role.REFERRER: 1,
            Role.SALES: 1,
            Role.SUPPORT: 1,
        }
        # the sales side: a lead in every stage, a ticket in every status (A11)
        assert set(db.session.scalars(db.select(Lead.stage))) == set(LeadStage)
        assert set(db.session.scalars(db.select(Ticket.status))) == set(TicketStatus)
        # the demo client's dossiers span the workflow, reached through real transitions
        statuses = set(db.session.scalars(db.select(Dossier.status)))
        assert {
            DossierStatus.PENDING_UPLOAD,
            DossierStatus.PENDING_ADMIN_VALIDATION,
            DossierStatus.EXPERT_PENDING_ACCEPTANCE,
            DossierStatus.DOCUMENTS_REQUESTED,
            DossierStatus.AUDIT_COMPLETED,
            DossierStatus.COMPLETED,
        } <= statuses
        assert db.session.scalar(db.select(db.func.count(Invoice.id))) == 1
        # the demo client came through the demo referrer, and they have talked
        referral = db.session.scalar(db.select(Thread).where(Thread.kind == ThreadKind.REFERRAL))
        assert referral is not None and referral.last_message_at is not None


CRM_SCALE = ["--leads", "50", "--activities", "120", "--tickets", "30"]


def test_seed_scale_small(app):
    result = app.test_cli_runner().invoke(
        args=[
            "seed",
            "scale",
            "--clients",
            "30",
            "--experts",
            "7",
            "--referrers",
            "3",
            "--dossiers",
            "95",
            "--messages",
            "140",
            "--chunk",
            "10",
            *CRM_SCALE,
        ]
    )
    assert result.exit_code == 0, result.output
    from app.models import (
        Activity,
        Dossier,
        ExpertProduct,
        Lead,
        Message,
        Thread,
        ThreadParticipant,
        Ticket,
        TicketMessage,
    )
    from app.services import messaging

    with app.app_context():
        # 40 clients, experts and referrers, a sales team of 20 and a support team of 10
        assert db.session.scalar(db.select(db.func.count(User.id))) == 70
        assert db.session.scalar(db.select(db.func.count(Lead.id))) == 50
        assert db.session.scalar(db.select(db.func.count(Activity.id))) == 120
        assert db.session.scalar(db.select(db.func.count(Ticket.id))) == 30
        assert db.session.scalar(db.select(db.func.count(TicketMessage.id))) == 30
        assert db.session.scalar(db.select(db.func.count(Dossier.id))) == 95
        if db.engine.dialect.name == "postgresql":  # the bulk load gives the index back as it was
            options = db.session.scalar(
                db.text("SELECT reloptions FROM pg_class WHERE relname = 'ix_messages_search'")
            )
            assert "fastupdate=off" in options
        assert db.session.scalar(db.select(db.func.count(ExpertProduct.id))) >= 7
        pairs = db.session.execute(db.select(Dossier.client_id, Dossier.product_id)).all()
        assert len(set(pairs)) == 95
        # conversations: the long thread first, the rest spread; read up to the last few
        per_thread = db.session.execute(
            db.select(Message.thread_id, db.func.count(Message.id))
            .group_by(Message.thread_id)
            .order_by(Message.thread_id)
        ).all()
        assert sum(n for _t, n in per_thread) == 140 and per_thread[0][1] == 70
        assert len(per_thread) >= 2
        long = db.session.get(Thread, per_thread[0][0])
        assert long.last_message_at is not None
        client = db.session.get(User, db.session.get(Dossier, long.dossier_id).client_id)
        # read (and emailed) up to the last few: no unread-message email storm
        assert messaging.badge_counts(client)[1] <= 2 * len(per_thread)
        reads = db.session.execute(
            db.select(
                ThreadParticipant.last_read_message_id, ThreadParticipant.emailed_up_to_message_id
            )
        ).all()
        assert reads and all(r is not None and e is not None and r < e for r, e in reads)
        first = db.session.scalar(db.select(Message.body).order_by(Message.id))
        word = max(first.rstrip(".").split(), key=len)  # the longest: not a stop word
        assert messaging.search(client, word)[0]  # the full-text index has them
    again = app.test_cli_runner().invoke(
        args=["seed", "scale", "--clients", "30", "--experts", "7", "--referrers", "3"]
        + ["--dossiers", "95", "--messages", "140", "--chunk", "10", *CRM_SCALE]
    )
    assert again.exit_code == 0, again.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Message.id))) == 140
        assert db.session.scalar(db.select(db.func.count(Lead.id))) == 50
        assert db.session.scalar(db.select(db.func.count(User.id))) == 70
        assert all(
            re.fullmatch(r"\d{9}", u.client_profile.siren)
            for u in db.session.scalars(db.select(User).where(User.role == Role.CLIENT))
        )
