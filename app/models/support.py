"""Support tickets (docs/domain.md A11): a signed-in user's request to the platform's team, its
public replies and the team's internal notes, its first-response and resolution clocks, the
requester's satisfaction, and merges of duplicates."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, _enum, utcnow
from app.models.notification import Priority


class TicketStatus(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the requester: the resolution clock is paused
    RESOLVED = "resolved"
    CLOSED = "closed"


ACTIVE_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


class TicketCategory(enum.StrEnum):
    ACCOUNT = "account"
    DOSSIER = "dossier"
    BILLING = "billing"
    TECHNICAL = "technical"
    OTHER = "other"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # the queue: by status, newest first, and per assignee; the requester's own list
        Index("ix_tickets_status", "status", "id"),
        Index("ix_tickets_assignee_status", "assignee_id", "status", "id"),
        Index("ix_tickets_requester", "requester_id", "id"),
        # the SLA sweep reads only the clocks that have come due
        Index("ix_tickets_response_due", "first_response_due_at"),
        Index("ix_tickets_resolution_due", "resolution_due_at"),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="rating"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    dossier_id: Mapped[int | None] = mapped_column(
        ForeignKey("dossiers.id", ondelete="SET NULL"), index=True
    )
    category: Mapped[TicketCategory] = mapped_column(_enum(TicketCategory, "ticket_category"))
    priority: Mapped[Priority] = mapped_column(
        _enum(Priority, "ticket_priority"), default=Priority.MEDIUM
    )
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[TicketStatus] = mapped_column(
        _enum(TicketStatus, "ticket_status"), default=TicketStatus.NEW
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL")
    )
    # the clocks (business time of the platform's calendar): the first public reply of the
    # team, and the resolution, which stands still while the ticket waits on its requester
    first_response_due_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    resolution_paused_since: Mapped[datetime | None]
    response_breached: Mapped[bool] = mapped_column(default=False)
    resolution_breached: Mapped[bool] = mapped_column(default=False)
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    satisfaction: Mapped[int | None]
    satisfaction_comment: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    requester = relationship("User", foreign_keys=[requester_id], lazy="joined")
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class TicketMessage(Base):
    """A reply on a ticket. `internal` notes are the team's: never shown, sent or exported to
    the requester (every reader of messages filters on it through `support.tickets`)."""

    __tablename__ = "ticket_messages"
    __table_args__ = (Index("ix_ticket_messages_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(default=False)
    via: Mapped[str] = mapped_column(String(8), default="web")  # web | email
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author = relationship("User", lazy="joined")
    attachments: Mapped[list[TicketAttachment]] = relationship(
        lazy="selectin", order_by="TicketAttachment.id"
    )


class TicketAttachment(Base):
    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("ticket_messages.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(200))
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
