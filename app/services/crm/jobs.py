"""The CRM's scheduled work (app.cron enqueues it)."""

from app.services.crm import activities


def remind_overdue_tasks() -> int:
    return activities.remind_overdue()
