"""Browser push (Web Push with VAPID, issue 5 §7): subscriptions, and delivery by a job.

A notification the user wants by push becomes one `PushDelivery` row per browser (`queue`),
each sent by the job `notifications.jobs.deliver_push` (RQ, `default` queue, retried like
emails). A push service answering 404 or 410 means the subscription is gone: it is dropped, the
row says so, and the other browsers still get theirs. Admins see the rows in the outbox and
resend failed ones.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app
from flask_babel import gettext as _
from py_vapid import Vapid01, b64urlencode
from pywebpush import WebPushException, webpush
from rq import Retry

from app.core.db import after_commit
from app.core.errors import NotFound, ValidationFailed
from app.core.jobs import enqueue
from app.extensions import db
from app.models import Notification, PushDelivery, PushStatus, PushSubscription, User, utcnow


def enabled() -> bool:
    return bool(current_app.config["VAPID_PRIVATE_KEY"] and current_app.config["VAPID_PUBLIC_KEY"])


def public_key() -> str:
    """The key a browser subscribes with, or "" when push is not configured."""
    return current_app.config["VAPID_PUBLIC_KEY"] if enabled() else ""


def subscribe(user: User, data: dict) -> PushSubscription:
    """Store (or move to this user) a browser's subscription, as `PushSubscription.toJSON()`."""
    data = data if isinstance(data, dict) else {}
    endpoint = str(data.get("endpoint") or "")
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    p256dh, auth = str(keys.get("p256dh") or ""), str(keys.get("auth") or "")
    if not endpoint.startswith("https://") and not current_app.testing:
        endpoint = ""
    if not endpoint or len(endpoint) > 1000 or not p256dh or not auth:
        message = _("This browser sent an invalid subscription.")
        raise ValidationFailed(message, subscription=message)
    row = db.session.scalar(
        db.select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    )
    if row is None:
        row = PushSubscription(endpoint=endpoint)
        db.session.add(row)
    row.user_id, row.p256dh, row.auth = user.id, p256dh[:200], auth[:100]
    db.session.commit()
    return row


def unsubscribe(user: User, endpoint: str) -> None:
    db.session.execute(
        db.delete(PushSubscription).where(
            PushSubscription.user_id == user.id, PushSubscription.endpoint == endpoint
        )
    )
    db.session.commit()


def payload(notification: Notification) -> str:
    return json.dumps(
        {"title": notification.title, "body": notification.body[:200], "link": notification.link}
    )


def queue(notification: Notification) -> list[PushDelivery]:
    """One delivery row per browser of the notification's user, sent after commit."""
    subscriptions = db.session.scalars(
        db.select(PushSubscription).where(PushSubscription.user_id == notification.user_id)
    ).all()
    rows = [
        PushDelivery(
            notification_id=notification.id,
            user_id=notification.user_id,
            subscription_id=sub.id,
            push_service=(urlsplit(sub.endpoint).hostname or "")[:200],
        )
        for sub in subscriptions
    ]
    db.session.add_all(rows)
    db.session.flush()
    for row in rows:
        _enqueue_after_commit(row.id)
    return rows


def _enqueue_after_commit(delivery_id: int) -> None:

    intervals = current_app.config.get("EMAIL_RETRY_INTERVALS", [10, 60, 300])
    retry = Retry(max=len(intervals), interval=intervals)
    after_commit(
        lambda: enqueue(
            "default",
            "app.services.notifications.jobs.deliver_push",
            delivery_id,
            job_id=f"push-{delivery_id}-{utcnow().timestamp():.0f}",
            retry=retry,
        )
    )


def deliver(delivery_id: int) -> bool:
    """Send one delivery. Idempotent: only a queued row is sent. A refusal other than "gone"
    is recorded and raised, so that RQ retries; after the last try the row is failed."""
    row = db.session.get(PushDelivery, delivery_id)
    if row is None or row.status != PushStatus.QUEUED or not enabled():
        return False
    sub = db.session.get(PushSubscription, row.subscription_id) if row.subscription_id else None
    notification = db.session.get(Notification, row.notification_id)
    if sub is None:
        row.status, row.last_error = PushStatus.GONE, "subscription removed"
        db.session.commit()
        return False
    row.attempts += 1
    db.session.commit()
    try:
        webpush(
            subscription_info={
                "endpoint": sub.endpoint,
                "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
            },
            data=payload(notification),
            vapid_private_key=current_app.config["VAPID_PRIVATE_KEY"],
            vapid_claims={"sub": current_app.config["VAPID_SUBJECT"]},
            timeout=10,
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        row.last_error = f"{status or ''} {exc}".strip()[:2000]
        if status in (404, 410):  # the browser unsubscribed: forget it, do not retry
            row.status = PushStatus.GONE
            db.session.delete(sub)
            db.session.commit()
            return False
        _failed_attempt(row)
        raise
    except Exception as exc:  # network errors: recorded, then retried by RQ
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        _failed_attempt(row)
        raise
    row.status, row.sent_at, row.last_error = PushStatus.SENT, utcnow(), None
    db.session.commit()
    return True


def _failed_attempt(row: PushDelivery) -> None:
    max_attempts = 1 + len(current_app.config.get("EMAIL_RETRY_INTERVALS", [10, 60, 300]))
    if row.attempts >= max_attempts:
        row.status = PushStatus.FAILED
    db.session.commit()


def resend(delivery_id: int) -> PushDelivery:
    """An admin sends a failed delivery again (to the same browser, if it is still there)."""
    row = db.session.get(PushDelivery, delivery_id)
    if row is None:
        raise NotFound()
    if row.status == PushStatus.FAILED:
        row.status, row.attempts = PushStatus.QUEUED, 0
        _enqueue_after_commit(row.id)
        db.session.commit()
    return row


def outbox_page(before_id: int | None = None, status: str | None = None, limit: int = 50):
    query = db.select(PushDelivery, User.email, Notification.title).join(
        User, User.id == PushDelivery.user_id
    )
    query = query.join(Notification, Notification.id == PushDelivery.notification_id)
    if before_id:
        query = query.where(PushDelivery.id < before_id)
    if status:
        query = query.where(PushDelivery.status == status)
    rows = db.session.execute(query.order_by(PushDelivery.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1][0].id if len(rows) > limit else None)


def generate_keys() -> tuple[str, str]:
    """(private, public) VAPID keys, base64url: the raw P-256 private number and the
    uncompressed public point the browser's `applicationServerKey` expects."""
    vapid = Vapid01()
    vapid.generate_keys()
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64urlencode(private), b64urlencode(public)
