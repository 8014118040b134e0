"""Failed logins slow down; nothing an attacker does can lock the owner out.

Each login attempt is counted under two keys: the client's IP address, and either the account
(a hash of the typed email, so unknown addresses look the same as known ones) or, when the
browser carries a *device cookie* from an earlier successful login to that same account, that
device. After the free attempts, each failure doubles the wait (LOGIN_DELAY_BASE seconds, up
to LOGIN_DELAY_MAX); while a key waits, attempts are refused without checking the password,
so waiting is the only way through. An attacker guessing from many addresses slows the
account key only: the owner's own browser uses its device key and logs in as usual, and a
password reset by email clears the account's count. A success clears the account or device
count (never the IP's: one good account must not buy an address more guesses); a day without
failures forgets any count.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from app.core.validators import normalize_email
from app.extensions import db
from app.models import LoginThrottle, utcnow

DEVICE_COOKIE = "ft_device"
DEVICE_MAX_AGE = 365 * 24 * 3600
FORGET_AFTER = timedelta(hours=24)


def _account(email: str) -> str:
    return hashlib.sha256(normalize_email(email or "").encode()).hexdigest()[:40]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def device_token(email: str, current: str | None = None) -> str:
    """The device cookie to set after a successful login (the current one if still valid)."""
    if current and _device_id(current, email):
        return current
    return _serializer().dumps({"d": secrets.token_urlsafe(12), "a": _account(email)})


def _device_id(token: str | None, email: str) -> str | None:
    if not token or len(token) > 200:
        return None
    try:
        data = _serializer().loads(token, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") != _account(email):
        return None  # a device trusted for another account proves nothing about this one
    return str(data.get("d"))[:30]


def keys(email: str, ip: str | None, device_cookie: str | None = None) -> list[str]:
    """The counters one attempt is checked against and charged to."""
    if device := _device_id(device_cookie, email):
        # this browser logged in to this account before: the attacker's guesses, counted
        # under the account and the addresses they come from, do not slow it down
        return [f"device:{device}"]
    return [f"account:{_account(email)}", f"ip:{(ip or '?')[:64]}"]


def _free(key: str) -> int:
    config = current_app.config
    return (
        config["LOGIN_FREE_ATTEMPTS_IP"] if key.startswith("ip:") else config["LOGIN_FREE_ATTEMPTS"]
    )


def _delay(over: int) -> timedelta:
    config = current_app.config
    seconds = config["LOGIN_DELAY_BASE"] * 2 ** min(over - 1, 20)
    return timedelta(seconds=min(seconds, config["LOGIN_DELAY_MAX"]))


def _enabled() -> bool:
    return current_app.config.get("RATELIMIT_ENABLED", True)


def wait_seconds(attempt_keys: list[str]) -> int:
    """Seconds before these keys may try again (0: now)."""
    if not _enabled():
        return 0
    now = utcnow()
    until = db.session.scalar(
        db.select(db.func.max(LoginThrottle.locked_until)).where(
            LoginThrottle.key.in_(attempt_keys), LoginThrottle.locked_until > now
        )
    )
    return math.ceil((until - now).total_seconds()) if until else 0


def _row(key: str) -> LoginThrottle:
    """The key's row, locked for this transaction (PostgreSQL), created if missing."""
    row = db.session.get(LoginThrottle, key, with_for_update=True)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            db.session.add(LoginThrottle(key=key, failures=0, last_failed_at=utcnow()))
    except IntegrityError:  # a concurrent failure created it first
        pass
    return db.session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)


def failed(attempt_keys: list[str]) -> int:
    """Count a failure under each key; returns the new wait in seconds. Commits."""
    if not _enabled():
        return 0
    now = utcnow()
    for key in attempt_keys:
        row = _row(key)
        if row.last_failed_at < now - FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failed_at = now
        over = row.failures - _free(key)
        row.locked_until = now + _delay(over) if over > 0 else None
    db.session.commit()
    return wait_seconds(attempt_keys)


def succeeded(attempt_keys: list[str]) -> None:
    """A good password clears the account's (or device's) count, not the address's. Commits."""
    db.session.execute(
        db.delete(LoginThrottle).where(
            LoginThrottle.key.in_([k for k in attempt_keys if not k.startswith("ip:")])
        )
    )
    db.session.commit()


def clear_account(email: str) -> None:
    """After a password reset: whoever proved they own the mailbox logs in at once. The
    caller commits."""
    db.session.execute(
        db.delete(LoginThrottle).where(LoginThrottle.key == f"account:{_account(email)}")
    )


def purge_idle() -> int:
    result = db.session.execute(
        db.delete(LoginThrottle).where(LoginThrottle.last_failed_at < utcnow() - FORGET_AFTER)
    )
    db.session.commit()
    return result.rowcount
