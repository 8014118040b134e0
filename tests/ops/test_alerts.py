"""Alert rules (A12): a rule fires once its condition has held for its duration, tells each
channel once (in the app, by email to the real SMTP sink, Slack and SMS to real local HTTP
servers), is acknowledged and resolved by staff, and clears itself."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.extensions import db
from app.models import (
    AlertRule,
    AlertState,
    AuditLog,
    Comparison,
    Notification,
    Role,
    ServiceAlert,
    Severity,
    utcnow,
)
from app.services.ops import alerts
from app.services.ops.monitor import Monitor
from tests.factories import HX, login, make_user, post


class Receiver:
    """A real HTTP server on a free port that keeps what it is sent (Slack's or an SMS
    provider's side); `status` is what it answers."""

    def __init__(self):
        self.calls: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"] or 0))
                receiver.calls.append(
                    {
                        "path": self.path,
                        "json": json.loads(body),
                        "auth": self.headers.get("Authorization"),
                    }
                )
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers(app):
    slack, sms = Receiver(), Receiver()
    saved = {k: app.config[k] for k in ("SLACK_WEBHOOK_URL", "SMS_API_URL", "SMS_API_TOKEN")}
    saved["ALERT_SMS_TO"] = app.config["ALERT_SMS_TO"]
    app.config.update(
        SLACK_WEBHOOK_URL=f"{slack.url}/services/T000/B000/XXXX",
        SMS_API_URL=f"{sms.url}/v1/messages",
        SMS_API_TOKEN="sms-token",
        ALERT_SMS_TO=["+33600000001", "+33600000002"],
    )
    yield slack, sms
    app.config.update(saved)
    slack.close()
    sms.close()


def _rule(ctx, **fields):
    values = dict(
        name="File d'attente pleine",
        metric="queue_depth",
        comparison=Comparison.ABOVE,
        threshold=2,
        duration_s=30,
        severity=Severity.CRITICAL,
        channels=["inapp", "email", "slack", "sms"],
    )
    values.update(fields)
    rule = AlertRule(**values)
    db.session.add(rule)
    db.session.commit()
    return rule


def test_a_rule_fires_once_after_its_duration_then_clears_itself(app, ctx, receivers, smtp):
    slack, sms = receivers
    admin_id = make_user(app, Role.ADMIN, email="ops-admin@example.fr")
    make_user(app, Role.ADMIN, email="ops-admin2@example.fr")
    rule = _rule(ctx)
    t0 = utcnow()
    assert alerts.evaluate({"queue_depth": 5}, t0) == []  # holds, not yet for 30 s
    assert alerts.evaluate({"queue_depth": 5}, t0 + timedelta(seconds=29)) == []
    [alert_id] = alerts.evaluate({"queue_depth": 6}, t0 + timedelta(seconds=30))
    # in the app, with the opening (before any other channel is tried)
    notes = db.session.scalars(db.select(Notification).where(Notification.type == "service_alert"))
    notes = notes.all()
    assert len(notes) == 2 and all("File d'attente pleine" in n.title for n in notes)
    assert {n.user_id for n in notes} >= {admin_id}
    done = alerts.deliver(alert_id)
    assert done == {"inapp": "sent", "email": "sent", "slack": "sent", "sms": "sent"}
    [call] = slack.calls
    assert (
        call["path"] == "/services/T000/B000/XXXX"
        and "File d'attente pleine" in call["json"]["text"]
    )
    assert [c["json"]["to"] for c in sms.calls] == ["+33600000001", "+33600000002"]
    assert all(c["auth"] == "Bearer sms-token" for c in sms.calls)
    assert sorted(m["To"] for m in smtp.messages) == [
        "ops-admin2@example.fr",
        "ops-admin@example.fr",
    ]
    assert "6" in sms.calls[0]["json"]["text"]  # the value it opened with

    # still holding: nothing more is sent, nothing more opens
    for s in (31, 60, 120):
        assert alerts.evaluate({"queue_depth": 9}, t0 + timedelta(seconds=s)) == []
    assert alerts.deliver(alert_id)["slack"] == "sent" and len(slack.calls) == 1
    assert db.session.scalar(db.select(db.func.count(ServiceAlert.id))) == 1

    # the condition goes: it closes itself
    alerts.evaluate({"queue_depth": 0}, t0 + timedelta(seconds=130))
    alert = db.session.get(ServiceAlert, alert_id)
    db.session.refresh(alert)
    assert alert.state == AlertState.CLEARED and alert.closed_at is not None
    db.session.refresh(rule)
    assert rule.breaching_since is None


def test_staff_acknowledge_and_resolve_and_a_resolved_alert_waits_for_the_condition_to_clear(
    app, client, receivers
):
    make_user(app, Role.ADMIN, email="ops-ack@example.fr")
    with app.app_context():
        rule = _rule(None, duration_s=0, channels=["inapp", "slack"])
        rule_id = rule.id
        t0 = utcnow()
        [alert_id] = alerts.evaluate({"queue_depth": 5}, t0)
    login(client, "ops-ack@example.fr")
    page = client.get("/ops/alerts").get_data(as_text=True)
    assert "File d'attente pleine" in page and f"/ops/alerts/{alert_id}/acknowledge" in page
    resp = post(client, f"/ops/alerts/{alert_id}/acknowledge")
    assert resp.status_code == 303
    fragment = post(client, f"/ops/alerts/{alert_id}/resolve", htmx=True)
    assert fragment.status_code == 200
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="ops-alerts"')
    assert post(client, f"/ops/alerts/{alert_id}/resolve", csrf=False).status_code == 400
    with app.app_context():
        alert = db.session.get(ServiceAlert, alert_id)
        assert alert.state == AlertState.RESOLVED and alert.acknowledged_by_id is not None
        actions = set(db.session.scalars(db.select(AuditLog.action)))
        assert {"service_alert.acknowledged", "service_alert.resolved"} <= actions
        # the breach goes on: resolved means handled, it does not open again
        assert alerts.evaluate({"queue_depth": 5}, t0 + timedelta(seconds=10)) == []
        # it clears, and comes back: a new alert
        alerts.evaluate({"queue_depth": 0}, t0 + timedelta(seconds=20))
        assert len(alerts.evaluate({"queue_depth": 5}, t0 + timedelta(seconds=30))) == 1
        assert db.session.get(AlertRule, rule_id).breaching_since is not None


def test_one_channel_failing_does_not_stop_the_others(app, ctx, receivers, smtp):
    slack, sms = receivers
    slack.status = 500
    make_user(app, Role.ADMIN, email="ops-fail@example.fr")
    _rule(ctx, duration_s=0)
    [alert_id] = alerts.evaluate({"queue_depth": 3})
    done = alerts.deliver(alert_id)
    assert done["slack"].startswith("failed") and "500" in done["slack"]
    assert done["sms"] == "sent" and done["email"] == "sent" and len(smtp.messages) == 1
    slack.status = 200  # tried again (the monitor's next delivery): only what failed
    done = alerts.deliver(alert_id)
    assert done["slack"] == "sent" and len(sms.calls) == 2 and len(smtp.messages) == 1


def test_the_monitor_opens_an_alert_from_the_live_readings(app, ctx):
    """A tick reads the real queue (a job waiting, no worker) and opens the alert in the app."""
    from app.core.jobs import queue

    make_user(app, Role.ADMIN, email="ops-monitor@example.fr")
    _rule(ctx, threshold=0, duration_s=0, channels=["inapp"])
    monitor = Monitor()
    values = monitor.tick()
    assert values["queue_depth"] == 0
    assert db.session.scalar(db.select(db.func.count(ServiceAlert.id))) == 0
    queue("default").enqueue("app.services.ops.health.disk_percent", "/")
    values = monitor.tick()
    assert values["queue_depth"] == 1 and values["queue_age_s"] >= 0
    [alert] = db.session.scalars(db.select(ServiceAlert)).all()
    assert alert.state == AlertState.OPEN and alert.value == 1
    assert db.session.scalar(db.select(db.func.count(Notification.id))) == 1
    queue("default").empty()
    monitor.tick()
    db.session.refresh(alert)
    assert alert.state == AlertState.CLEARED


def test_default_rules_are_installed_once_and_edits_are_kept(app, ctx):
    alerts.install_defaults()
    rules = {r.default_key: r for r in alerts.rules()}
    assert set(rules) == {"queue_age", "error_rate", "smtp", "disk", "scheduler", "backup"}
    assert rules["queue_age"].threshold == 300 and rules["scheduler"].threshold == 180
    assert rules["disk"].threshold == 90 and rules["error_rate"].threshold == 2
    assert "email" not in rules["smtp"].channels  # it would not leave
    rules["disk"].threshold = 95
    db.session.delete(rules["error_rate"])
    db.session.commit()
    alerts.install_defaults()
    again = {r.default_key: r for r in alerts.rules()}
    assert again["disk"].threshold == 95 and "error_rate" in again  # topped up, edit kept
    assert len(again) == 6


def test_the_rule_form_validates_keeps_values_and_is_for_admins(app, client):
    make_user(app, Role.ADMIN, email="ops-rules@example.fr")
    login(client, "ops-rules@example.fr")
    assert client.get("/ops/rules/new").status_code == 200
    bad = post(
        client,
        "/ops/rules",
        {"name": "Trop d'erreurs", "metric": "error_rate", "comparison": "above"}
        | {"threshold": "beaucoup", "duration_s": "60", "severity": "critical"},
    )
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'value="beaucoup"' in page and "Trop d&#39;erreurs" in page
    assert "Saisissez un nombre" in page
    good = post(
        client,
        "/ops/rules",
        {"name": "Trop d'erreurs", "metric": "error_rate", "comparison": "above"}
        | {"threshold": "2,5", "duration_s": "60", "severity": "critical", "enabled": "y"}
        | {"channels": ["inapp", "slack"]},
    )
    assert good.status_code == 303
    with app.app_context():
        rule = db.session.scalar(db.select(AlertRule).where(AlertRule.name == "Trop d'erreurs"))
        assert rule.threshold == 2.5 and rule.channels == ["inapp", "slack"]
        rule_id = rule.id
    assert client.get(f"/ops/rules/{rule_id}").status_code == 200
    assert post(client, f"/ops/rules/{rule_id}/delete").status_code == 303
    assert client.get(f"/ops/rules/{rule_id}").status_code == 404
    assert post(client, "/ops/rules", {"name": "x"}, csrf=False).status_code == 400


def test_strangers_meet_403_pages_and_404_alerts(app, client):
    with app.app_context():
        rule = _rule(None, duration_s=0)
        [alert_id] = alerts.evaluate({"queue_depth": 5})
        assert rule
    make_user(app, Role.SUPPORT, email="ops-support@example.fr")
    login(client, "ops-support@example.fr")
    assert client.get("/ops/alerts").status_code == 403
    assert client.get("/ops/alerts", headers=HX).status_code == 403
    assert post(client, f"/ops/alerts/{alert_id}/acknowledge").status_code == 404
    assert post(client, f"/ops/alerts/{alert_id}/resolve").status_code == 404
    with app.app_context():
        assert db.session.get(ServiceAlert, alert_id).state == AlertState.OPEN


def test_the_monitor_process_starts_on_a_fresh_database_and_opens_an_alert(app):
    """Defect: `python -m app.worker monitor` died at start on a database without rules (the
    shipped rules' names were translated outside a request). The real process, started here,
    installs them, keeps the pulse and opens an alert within seconds of its condition."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from app.core.jobs import queue
    from app.models import AlertRule, HealthCheck, PulseSample

    make_user(app, Role.ADMIN, email="ops-process@example.fr")
    env = dict(os.environ, WORKER_NICE="0", MONITOR_TICK_S="0.2", PULSE_SECONDS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.worker", "monitor"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def until(check, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with app.app_context():
                found = check()
            if found:
                return found
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            time.sleep(0.1)
        raise AssertionError("the monitor did not get there")

    try:
        until(
            lambda: (
                db.session.scalar(db.select(db.func.count(AlertRule.id))) == len(alerts.DEFAULTS)
            )
        )
        with app.app_context():
            names = set(db.session.scalars(db.select(AlertRule.name)))
            assert "Une tâche attend depuis plus de 5 minutes" in names  # in French, the default
            _rule(db.session, threshold=0, duration_s=0, channels=["inapp"])
            queue("default").enqueue("app.services.ops.health.disk_percent", "/")
        until(lambda: db.session.scalar(db.select(db.func.count(PulseSample.id))))
        # the health round runs on the monitor's side thread, beside the ticks
        until(lambda: db.session.scalar(db.select(db.func.count(HealthCheck.id))))
        until(
            lambda: db.session.scalar(
                db.select(db.func.count(Notification.id)).where(
                    Notification.type == "service_alert"
                )
            )
        )
    finally:
        proc.terminate()
        proc.wait(10)
