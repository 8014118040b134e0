"""Login sessions: one row per signed-in browser, so that ending a session is a server-side fact.

The Flask session cookie and the remember-me cookie both carry `"<user id>:<random key>"` (the
user object's `get_id()`); the loader accepts them only while the key's row is not revoked.
Revoking a row also closes that browser's open Socket.IO connections (after commit).
"""

from __future__ import annotations

import hashlib
import secrets

from app.extensions import db
from app.models import User, UserSession, utcnow
from app.realtime import notify


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open(user: User, user_agent: str | None = None) -> User:
    """Start a session for `user` (then `login_user(user)`); commits."""
    key = secrets.token_urlsafe(32)
    row = UserSession(user_id=user.id, key_hash=_hash(key), user_agent=(user_agent or "")[:200])
    db.session.add(row)
    db.session.commit()
    user.login_key, user.login_session_id = key, row.id
    return user


def load(cookie_id: str) -> User | None:
    """The user a cookie's `"<id>:<key>"` names, if that session is still open (one query)."""
    user_id, _, key = cookie_id.partition(":")
    if not user_id.isdigit() or not key or len(key) > 100:
        return None
    found = db.session.execute(
        db.select(User, UserSession.id)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.key_hash == _hash(key),
            UserSession.user_id == int(user_id),
            UserSession.revoked_at.is_(None),
        )
    ).first()
    if found is None:
        return None
    user, session_id = found
    user.login_key, user.login_session_id = key, session_id
    return user


def end(user: User) -> None:
    """Logout: this browser's session only."""
    if user.login_session_id is not None:
        _revoke(db.select(UserSession.id).where(UserSession.id == user.login_session_id))


def end_all(user: User, keep_current: bool = False) -> int:
    """Every open session of `user` (a password change keeps the one that made it)."""
    query = db.select(UserSession.id).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if keep_current and user.login_session_id is not None:
        query = query.where(UserSession.id != user.login_session_id)
    return _revoke(query)


def open_count(user: User) -> int:
    return db.session.scalar(
        db.select(db.func.count(UserSession.id)).where(
            UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
        )
    )


def _revoke(ids_query) -> int:
    ids = list(db.session.scalars(ids_query))
    if ids:
        db.session.execute(
            db.update(UserSession).where(UserSession.id.in_(ids)).values(revoked_at=utcnow())
        )
        for session_id in ids:
            notify.close_sockets_of(session_id)
    db.session.commit()
    return len(ids)
