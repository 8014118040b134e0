"""Browser push (Web Push with VAPID, issue 5 §7): subscriptions, and delivery by a job.

A notification the user wants by push is sent to each of their browsers by `deliver` (RQ,
`default` queue). A push service answering 404 or 410 means the subscription is gone: it is
dropped, and the other browsers still get theirs.
"""

from __future__ import annotations

import json

from flask import current_app
from flask_babel import gettext as _
from pywebpush import WebPushException, webpush

from app.extensions import db
from app.models import Notification, PushSubscription, User
from app.services.errors import ValidationFailed


def enabled() -> bool:
    return bool(current_app.config["VAPID_PRIVATE_KEY"] and current_app.config["VAPID_PUBLIC_KEY"])


def subscribe(user: User, data: dict) -> PushSubscription:
    """Store (or move to this user) a browser's subscription, as `PushSubscription.toJSON()`."""
    endpoint = str((data or {}).get("endpoint") or "")
    keys = (data or {}).get("keys") or {}
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


def deliver(notification_id: int) -> int:
    """Send one notification to every browser of its user; returns how many accepted it."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or not enabled():
        return 0
    subscriptions = db.session.scalars(
        db.select(PushSubscription).where(PushSubscription.user_id == notification.user_id)
    ).all()
    delivered = 0
    for sub in subscriptions:
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
            delivered += 1
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (404, 410):  # the browser unsubscribed: forget it, go on
                db.session.delete(sub)
            else:
                current_app.logger.warning("push failed", extra={"status": status})
    db.session.commit()
    return delivered


def generate_keys() -> tuple[str, str]:
    """(private, public) VAPID keys, base64url: the raw P-256 private number and the
    uncompressed public point the browser's `applicationServerKey` expects."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from py_vapid import Vapid01, b64urlencode

    vapid = Vapid01()
    vapid.generate_keys()
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64urlencode(private), b64urlencode(public)
