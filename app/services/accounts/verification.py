"""Email verification: the signed link a new account confirms its address with."""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.core.errors import ValidationFailed
from app.extensions import db
from app.models import Notification, Priority, User, utcnow
from app.services import notifications
from app.services.notifications import emails


def serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


# -- email verification --------------------------------------------------------------------------


def verification_token(user: User) -> str:
    return serializer("email-verify").dumps({"u": user.id, "e": user.email})


def send_verification(user: User) -> None:
    link = emails.external_url("auth.verify_email", token=verification_token(user))
    emails.queue_email(user, "verify_email", link=link)


def resend_verification(user: User) -> None:
    send_verification(user)
    db.session.commit()


def verify_email(token: str) -> tuple[User, bool]:
    """The user the link confirms, and whether this is its first use (which logs them in).

    :raises ValidationFailed: expired, tampered, or for an address changed since."""
    try:
        data = serializer("email-verify").loads(
            token, max_age=current_app.config["EMAIL_VERIFY_MAX_AGE"]
        )
    except SignatureExpired:
        raise ValidationFailed(
            _("This confirmation link has expired. Ask for a new one.")
        ) from None
    except BadSignature:
        raise ValidationFailed(_("This confirmation link is not valid.")) from None
    user = db.session.get(User, data.get("u"))
    if user is None or user.email != data.get("e"):
        raise ValidationFailed(_("This confirmation link is not valid."))
    if user.email_verified_at is not None:
        return user, False
    user.email_verified_at = utcnow()
    db.session.commit()
    return user, True


def remind_unverified(limit: int) -> int:
    """One in-app reminder per account still unverified 24 h after sign-up (within 7 days)."""
    now = utcnow()
    already = db.select(Notification.user_id).where(
        Notification.type == "verify_email_reminder", Notification.threshold == "24h"
    )
    users = db.session.scalars(
        db.select(User)
        .where(
            User.email_verified_at.is_(None),
            User.active.is_(True),
            User.created_at <= now - timedelta(hours=24),
            User.created_at > now - timedelta(days=7),
            User.id.not_in(already),
        )
        .order_by(User.id)
        .limit(limit)
    ).all()
    for user in users:
        notifications.create(
            user,
            "verify_email_reminder",
            _l("Please confirm your email address"),
            body=_l("Open the link we emailed you, or ask for a new one from your profile."),
            link="/account/profile",
            priority=Priority.MEDIUM,
            object_ref=f"user:{user.id}",
            threshold="24h",
        )
    db.session.commit()
    return len(users)
