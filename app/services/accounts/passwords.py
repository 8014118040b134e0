"""Passwords: hashing, logging in, the emailed reset and a change from the account page."""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.errors import ValidationFailed
from app.core.validators import (
    normalize_email,
    password_problem,
)
from app.extensions import db
from app.models import (
    PasswordResetToken,
    User,
    utcnow,
)
from app.services.accounts import login_throttle, sessions
from app.services.accounts.verification import serializer
from app.services.notifications import emails

# a hash to compare against when the email is unknown, so both paths take the same time
_DUMMY_HASH = None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


# -- login ---------------------------------------------------------------------------------------


def authenticate(email: str, password: str) -> User | None:
    global _DUMMY_HASH
    user = db.session.scalar(db.select(User).where(User.email == normalize_email(email)))
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password-0")
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


# -- password reset ------------------------------------------------------------------------------


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def request_password_reset(email: str) -> None:
    """Email a single-use link valid one hour. Silent for unknown addresses (no enumeration)."""
    user = db.session.scalar(db.select(User).where(User.email == normalize_email(email)))
    if user is None or not user.active:
        return
    issue_password_link(user, "password_reset", current_app.config["PASSWORD_RESET_MAX_AGE"])
    db.session.commit()


# a staff invitation's link lasts a week; the signature's own limit is only an outer bound,
# the row's `expires_at` is what counts
LINK_MAX_AGE = 8 * 86400


def issue_password_link(user: User, template: str, max_age: int) -> None:
    """A single-use "choose your password" link, emailed with `template` (in the caller's
    transaction)."""
    nonce = secrets.token_urlsafe(24)
    row = PasswordResetToken(
        user_id=user.id,
        nonce_hash=_nonce_hash(nonce),
        expires_at=utcnow() + timedelta(seconds=max_age),
    )
    db.session.add(row)
    db.session.flush()
    token = serializer("password-reset").dumps({"t": row.id, "n": nonce})
    link = emails.external_url("auth.reset_password", token=token)
    emails.queue_email(user, template, link=link, minutes=max_age // 60, days=max_age // 86400)


def _reset_row(token: str) -> PasswordResetToken:
    invalid = _("This reset link is not valid. Ask for a new one.")
    try:
        data = serializer("password-reset").loads(token, max_age=LINK_MAX_AGE)
    except SignatureExpired:
        raise ValidationFailed(_("This reset link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise ValidationFailed(invalid) from None
    row = db.session.get(PasswordResetToken, data.get("t"))
    if row is None or not secrets.compare_digest(row.nonce_hash, _nonce_hash(str(data.get("n")))):
        raise ValidationFailed(invalid)
    if row.used_at is not None:
        raise ValidationFailed(_("This reset link has already been used. Ask for a new one."))
    if row.expires_at <= utcnow():
        raise ValidationFailed(_("This reset link has expired. Ask for a new one."))
    return row


def check_reset_token(token: str) -> None:
    _reset_row(token)


def reset_password(token: str, new_password: str) -> User:
    row = _reset_row(token)
    user = db.session.get(User, row.user_id)
    if problem := password_problem(new_password, user.email):
        raise ValidationFailed(problem, password=problem)
    now = utcnow()
    user.password_hash = hash_password(new_password)
    # every outstanding link dies with this one
    db.session.execute(
        db.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    if user.email_verified_at is None:  # the link came through their mailbox
        user.email_verified_at = now
    login_throttle.clear_account(user.email)  # the mailbox's owner logs in at once
    db.session.commit()
    sessions.end_all(user)  # whoever held a session (the reason for a reset, often) is out
    return user


def purge_expired_reset_tokens() -> int:
    result = db.session.execute(
        db.delete(PasswordResetToken).where(
            db.or_(
                PasswordResetToken.expires_at < utcnow(),
                PasswordResetToken.used_at.is_not(None),
            )
        )
    )
    db.session.commit()
    return result.rowcount


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not check_password_hash(user.password_hash, current_password):
        message = _("The current password is not correct.")
        raise ValidationFailed(message, current_password=message)
    if problem := password_problem(new_password, user.email):
        raise ValidationFailed(problem, new_password=problem)
    user.password_hash = hash_password(new_password)
    db.session.commit()
    sessions.end_all(user, keep_current=True)  # every other device is logged out
