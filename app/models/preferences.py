"""Notification preferences (issue 5): per family of notification types and per channel, quiet
hours and a daily digest. Only what a user changed is stored; the defaults live in code
(`app/services/preferences.py`)."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, _enum, utcnow


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "family", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    family: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NotificationSettings(Base):
    __tablename__ = "notification_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    # hours in the user's time zone, [from, to); both None = no quiet hours
    quiet_from: Mapped[int | None]
    quiet_to: Mapped[int | None]
    # message emails gathered into one summary a day instead of one email per thread
    daily_digest: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PushSubscription(Base):
    """A browser's Web Push subscription (endpoint and keys), dropped when the push service
    answers 404 or 410."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # the push service kept refusing it; an admin may resend it
    GONE = "gone"  # the browser unsubscribed (404/410): the subscription was dropped


class PushDelivery(Base):
    """One notification sent to one browser: the push half of the admin outbox."""

    __tablename__ = "push_deliveries"
    __table_args__ = (
        Index("ix_push_deliveries_created", "created_at"),
        Index("ix_push_deliveries_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # SET NULL: the row outlives a dropped subscription, to show what happened
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="SET NULL"), index=True
    )
    push_service: Mapped[str] = mapped_column(String(200))  # the endpoint's host, for display
    status: Mapped[PushStatus] = mapped_column(
        _enum(PushStatus, "push_status"), default=PushStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
