"""In-app notifications: one row per user event, deduplicated by an idempotency key."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, _enum, utcnow


class Priority(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    # the object the event is about ("user:12", "dossier:40") and the threshold for repeated
    # alerts ("48h"); with user and type they make the idempotency key
    object_ref: Mapped[str] = mapped_column(String(64), default="")
    threshold: Mapped[str] = mapped_column(String(32), default="")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    priority: Mapped[Priority] = mapped_column(
        _enum(Priority, "notification_priority"), default=Priority.MEDIUM
    )
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "type", "object_ref", "threshold", name="uq_notifications_key"),
        # a person's list, newest first, and its next pages (`id < ?`): one backward range
        Index("ix_notifications_user_latest", "user_id", "id"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )
