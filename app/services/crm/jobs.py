"""The CRM's scheduled work (app.cron enqueues it)."""

from app.core.jobs import public_context
from app.services.crm import activities


def remind_overdue_tasks() -> int:
    with public_context():  # the notifications and the email carry links
        return activities.remind_overdue()
