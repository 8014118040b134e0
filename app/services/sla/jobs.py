"""SLA jobs: the minute sweep (the cron process is the single leader that enqueues it; the
ladder's unique keys make an overlapping run harmless) and the recompute an admin starts."""

from app.core.jobs import public_context
from app.services import sla


def sweep_clocks() -> str:
    with public_context():
        return sla.sweep().line()
