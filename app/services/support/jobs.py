"""The tickets' scheduled work (app.cron enqueues it)."""

from app.core.jobs import public_context
from app.services.support import sla, tickets


def sweep_ticket_clocks() -> int:
    with public_context():  # the notifications carry links
        return sla.sweep()


def close_resolved_tickets() -> int:
    return tickets.close_resolved()
