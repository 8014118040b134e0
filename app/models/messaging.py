"""Conversations (docs/domain.md §7): threads, their participants as rows, messages."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, _enum, utcnow
from app.models.user import User

if TYPE_CHECKING:
    from app.models.dossier import Dossier


class ThreadKind(enum.StrEnum):
    DOSSIER = "dossier"  # the client, the dossier's expert, and the admins
    SUPPORT = "support"  # one user and the admins
    REFERRAL = "referral"  # a referrer and one of their clients


class Thread(Base):
    __tablename__ = "threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ThreadKind] = mapped_column(_enum(ThreadKind, "thread_kind"))
    # "dossier:12", "support:5", "referral:3:9": two people opening the same thread at once
    # meet on this unique key instead of making two
    key: Mapped[str] = mapped_column(String(64), unique=True)
    dossier_id: Mapped[int | None] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200), default="")
    last_message_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    dossier: Mapped[Dossier | None] = relationship()
    participants: Mapped[list[ThreadParticipant]] = relationship(
        back_populates="thread", cascade="all, delete-orphan"
    )

    @property
    def parties(self) -> tuple[int, ...]:
        """The ids of the dossier's client and current expert (none for other threads)."""
        dossier = self.dossier
        if dossier is None:
            return ()
        return tuple(i for i in (dossier.client_id, dossier.expert_id) if i is not None)


class ThreadParticipant(Base):
    __tablename__ = "thread_participants"
    __table_args__ = (
        UniqueConstraint("thread_id", "user_id"),
        Index("ix_thread_participants_user", "user_id", "thread_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # the last message this participant has seen: unread = newer messages from others
    last_read_message_id: Mapped[int | None]
    # the newest message already announced by email (one email per burst, not per message)
    emailed_up_to_message_id: Mapped[int | None]
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    thread: Mapped[Thread] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()


class MessageKind(enum.StrEnum):
    TEXT = "text"
    SYSTEM = "system"  # a dossier event written by the platform


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_thread_id", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[MessageKind] = mapped_column(
        _enum(MessageKind, "message_kind"), default=MessageKind.TEXT
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sender: Mapped[User | None] = relationship()
    thread: Mapped[Thread] = relationship()
    attachments: Mapped[list[MessageAttachment]] = relationship(
        cascade="all, delete-orphan", order_by="MessageAttachment.id"
    )


class MessageAttachment(Base):
    """A file sent with a message: stored and checked like dossier documents."""

    __tablename__ = "message_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(200))
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(80))
    size_bytes: Mapped[int]
