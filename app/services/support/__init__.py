"""Support tickets (docs/domain.md A11): the tickets and their messages (`tickets`), their
clocks (`sla`), replies by email (`mailin`)."""

from app.services.support import sla, tickets

__all__ = ["sla", "tickets"]
