"""Analytics jobs: scheduled reports (the sweep, each run, the 90-day purge), the nightly
rebuild of the facts, and a dossier's pack. Each is idempotent."""

from app.services.analytics import facts, schedules


def run_due_reports() -> int:
    return schedules.run_due()


def deliver_report(run_id: int) -> bool:
    return schedules.deliver(run_id)


def purge_report_runs() -> int:
    return schedules.purge_old_runs()


def rebuild_facts() -> int:
    return facts.rebuild()
