"""Signing in: the revocable browser sessions, password reset tokens, login throttles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class UserSession(Base):
    """One signed-in browser. Its cookie (and remember-me cookie) carries a random key; only
    the key's hash is stored. Logout, a password change or reset, or "log out of all my
    devices" set `revoked_at`, and the cookie opens nothing from then on."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class PasswordResetToken(Base):
    """Single-use reset token: the emailed link carries a signed (id, nonce); we keep a hash."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    nonce_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed logins counted per key: `ip:<address>`, `account:<hash of the email>` or
    `device:<id>` (a browser that has logged in to that account before). Past a few free
    attempts each failure doubles the wait (capped), never a lock: a success or a password
    reset clears the count, and a day without failures forgets it."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    locked_until: Mapped[datetime | None]
