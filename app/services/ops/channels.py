"""Where an alert is told besides the app: email to the admins, a Slack incoming webhook, SMS
through the provider's HTTP API. Each answers "sent", "not configured" or raises.

The monitor sends them itself, not through a worker: an alert that a worker is dead must not
wait for that worker.
"""

from __future__ import annotations

import requests
from flask import current_app
from flask_babel import force_locale

from app.extensions import db
from app.services import notifications
from app.services.notifications import emails

TIMEOUT_S = 5


def send(channel: str, alert, text) -> str:
    if channel == "email":
        return _email(alert, text)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return {"slack": _slack, "sms": _sms}[channel](alert, str(text))


def _email(alert, text: str) -> str:
    link = emails.external_url("ops.alerts")
    rows = [
        emails.queue_email(admin, "service_alert", alert=alert, text=text, link=link)
        for admin in notifications.active_admins()
    ]
    db.session.commit()
    for row in rows:  # at once; the queued job finds them sent (and retries one that failed)
        emails.send(row.id)
    return "sent" if rows else "no admin"


def _post(url: str, payload: dict, token: str = "") -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = requests.post(url, json=payload, headers=headers, timeout=TIMEOUT_S)
    resp.raise_for_status()


def _slack(alert, text: str) -> str:
    url = current_app.config["SLACK_WEBHOOK_URL"]
    if not url:
        return "not configured"
    link = emails.external_url("ops.alerts")
    _post(url, {"text": f"[{alert.rule.severity.value}] {text} <{link}|FinancialTracker>"})
    return "sent"


def _sms(alert, text: str) -> str:
    config = current_app.config
    if not config["SMS_API_URL"] or not config["ALERT_SMS_TO"]:
        return "not configured"
    for number in config["ALERT_SMS_TO"]:
        _post(
            config["SMS_API_URL"],
            {"from": config["SMS_SENDER"], "to": number, "text": text[:300]},
            config["SMS_API_TOKEN"],
        )
    return "sent"
