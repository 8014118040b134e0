"""SLA jobs. The cron process is the single leader that enqueues them; the ladder's and the
reminders' unique keys make an overlapping or repeated run harmless."""

from app.core.jobs import public_context
from app.services import sla


def sweep_clocks() -> str:
    """Every minute: the ladder and the planned reminders that came due."""
    with public_context():
        return sla.run(daily=False).line()


def send_daily_reminders() -> int:
    """09:00 Paris: the reminders by action type (B §6.5), grouped per person."""
    with public_context():
        return sla.reminders.daily()


def send_morning_report() -> int:
    """07:00 Paris: the admins' morning report (B §6.8)."""
    with public_context():
        return sla.reminders.morning_report()


def remind_overdue() -> int:
    """Started by an admin: every client late on an item is reminded now."""
    with public_context():
        return sla.reminders.remind_overdue()


def recompute_expert_figures() -> int:
    """Nightly: each expert's punctuality over 90 days, for the marketplace."""
    return sla.figures.recompute()


def recompute_open_clocks(recompute_id: int) -> int:
    """Started by an admin after editing policies or calendars."""
    return sla.settings.run_recompute(recompute_id)
