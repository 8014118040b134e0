"""Errors to a Sentry-protocol tracker (Sentry, GlitchTip…) when SENTRY_DSN is set: unhandled
errors of pages and jobs, and ERROR log lines.

Personal data stays here: no default PII (no IP address, cookies or user names), bodies and
query strings dropped, the usual secret keys scrubbed by sentry-sdk's EventScrubber, and any
email address or phone number left in a message or a variable replaced. The event keeps the
user's id, which is enough to find them in the admin pages.
"""

import re

import sentry_sdk
from flask import Flask, has_request_context
from flask_login import current_user
from sentry_sdk.integrations.flask import FlaskIntegration
from sentry_sdk.integrations.rq import RqIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"(?<!\d)(\+33\s?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")
DENYLIST = [
    *DEFAULT_DENYLIST,
    *DEFAULT_PII_DENYLIST,
    "email",
    "phone",
    "first_name",
    "last_name",
    "iban",
    "siren",
    "address",
]


def _scrub_text(value):
    if isinstance(value, str):
        return PHONE.sub("[phone]", EMAIL.sub("[email]", value))
    if isinstance(value, dict):
        return {k: _scrub_text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_text(v) for v in value]
    return value


def scrub(event: dict, _hint: dict) -> dict:
    request = event.get("request")
    if request:
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers") or {}
        request["headers"] = {
            k: v for k, v in headers.items() if k.lower() in {"user-agent", "x-request-id"}
        }
    event["user"] = {"id": str(user_id)} if (user_id := _user_id()) else {}
    return _scrub_text(event)


def _user_id() -> int | None:
    if not has_request_context():
        return None
    try:
        return getattr(current_user, "id", None)  # loads the session's user if not yet
    except Exception:  # the error being reported may be the database's: no id then
        return None


def init_app(app: Flask) -> None:
    dsn = app.config["SENTRY_DSN"]
    if not dsn:
        return
    sentry_sdk.init(
        dsn=dsn,
        environment=app.config["SENTRY_ENVIRONMENT"],
        integrations=[FlaskIntegration(), RqIntegration()],
        send_default_pii=False,
        event_scrubber=EventScrubber(denylist=DENYLIST, recursive=True),
        before_send=scrub,
        traces_sample_rate=0,  # errors only: the metrics say how fast we are
        max_request_body_size="never",
    )
