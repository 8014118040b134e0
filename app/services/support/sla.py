"""The tickets' clocks (docs/domain.md A11, A7): a first public reply and a resolution within a
budget of business minutes per priority, counted on the platform's business calendar (the one
admins edit under Deadlines). The resolution clock stands still while the ticket waits on its
requester. A clock past due is flagged once and its people are told (`sweep`)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Priority, Ticket, TicketStatus, utcnow
from app.services.sla import policies
from app.services.sla.calendars import add_business_minutes, business_seconds_between

# business minutes (a business day is 8 h = 480 min on the default calendar)
TARGETS = {
    Priority.URGENT: {"response": 60, "resolution": 480},
    Priority.HIGH: {"response": 240, "resolution": 1440},
    Priority.MEDIUM: {"response": 480, "resolution": 2400},
    Priority.LOW: {"response": 960, "resolution": 4800},
}


def _calendar():
    return policies.calendar_by_id(None).calendar


def start(ticket: Ticket, at: datetime) -> None:
    """Both clocks from the ticket's arrival (or again after a change of priority)."""
    calendar = _calendar()
    target = TARGETS[ticket.priority]
    if ticket.first_response_at is None:
        ticket.first_response_due_at = add_business_minutes(calendar, at, target["response"])
    if ticket.resolved_at is None:
        ticket.resolution_due_at = add_business_minutes(calendar, at, target["resolution"])
        ticket.resolution_paused_since = at if ticket.status == TicketStatus.PENDING else None


def responded(ticket: Ticket, at: datetime) -> None:
    if ticket.first_response_at is None:
        ticket.first_response_at = at
        ticket.response_breached = ticket.response_breached or (
            ticket.first_response_due_at is not None and at > ticket.first_response_due_at
        )


def pause(ticket: Ticket, at: datetime) -> None:
    if ticket.resolution_paused_since is None:
        ticket.resolution_paused_since = at


def resume(ticket: Ticket, at: datetime) -> None:
    """Back from waiting on the requester: what was left of the budget runs again from now."""
    since = ticket.resolution_paused_since
    if since is None or ticket.resolution_due_at is None:
        return
    calendar = _calendar()
    left = business_seconds_between(calendar, since, ticket.resolution_due_at)
    ticket.resolution_due_at = add_business_minutes(calendar, at, max(0, left) / 60)
    ticket.resolution_paused_since = None


def resolved(ticket: Ticket, at: datetime) -> None:
    if ticket.resolution_paused_since is not None:
        resume(ticket, at)
    ticket.resolved_at = at
    ticket.resolution_breached = ticket.resolution_breached or (
        ticket.resolution_due_at is not None and at > ticket.resolution_due_at
    )


def reopened(ticket: Ticket, at: datetime) -> None:
    """A requester's reply after the resolution: the resolution clock runs again."""
    ticket.resolved_at = None
    ticket.closed_at = None
    calendar = _calendar()
    ticket.resolution_due_at = add_business_minutes(
        calendar, at, TARGETS[ticket.priority]["resolution"]
    )
    ticket.resolution_paused_since = None


def sweep(at: datetime | None = None, batch: int = 500) -> int:
    """Flag the clocks that have just passed their due instant and tell the ticket's agent
    (or the whole support team while nobody has it). Idempotent: a flagged clock is done."""
    from app.services.support import tickets  # the notifications are the tickets' own

    now = at or utcnow()
    late_response = db.session.scalars(
        db.select(Ticket)
        .where(
            Ticket.first_response_at.is_(None),
            Ticket.first_response_due_at < now,
            Ticket.response_breached.is_(False),
            Ticket.status.in_((TicketStatus.NEW, TicketStatus.OPEN)),
        )
        .limit(batch)
    ).all()
    late_resolution = db.session.scalars(
        db.select(Ticket)
        .where(
            Ticket.resolved_at.is_(None),
            Ticket.resolution_due_at < now,
            Ticket.resolution_paused_since.is_(None),
            Ticket.resolution_breached.is_(False),
            Ticket.status.in_((TicketStatus.NEW, TicketStatus.OPEN)),
        )
        .limit(batch)
    ).all()
    for ticket in late_response:
        ticket.response_breached = True
        tickets.tell_team(ticket, "ticket_late", _l("A ticket is waiting for its first reply"))
    for ticket in late_resolution:
        ticket.resolution_breached = True
        tickets.tell_team(ticket, "ticket_late", _l("A ticket is past its resolution time"))
    db.session.commit()
    return len(late_response) + len(late_resolution)
