"""Workflow jobs. A transition's announcement (thread, notifications, emails) runs here, after
the transition has committed, so the person acting never waits for it; the sweeps catch what
time decides (an acceptance left unanswered) and what a lost job missed."""

from flask import current_app

from app.core.jobs import public_context
from app.extensions import db
from app.services import workflow

BATCH = 500


def announce(event_id: int) -> bool:
    with public_context():
        return workflow.announce(event_id)


def expire_expert_acceptances() -> int:
    """Dossiers an expert left unanswered for 48 hours go back to their client."""

    with public_context():
        return workflow.expire_acceptances(BATCH)


def announce_missed_transitions() -> int:
    """Transitions whose announcement job was lost (Redis down at the wrong moment)."""
    done = 0
    with public_context():
        for event_id in workflow.unannounced_events(BATCH):
            try:
                done += workflow.announce(event_id)
            except Exception:  # one bad event must not hold back the others behind it
                db.session.rollback()
                current_app.logger.exception("announcing dossier event %s failed", event_id)
    return done


def recount_expert_loads() -> int:
    """Nightly: each expert's active dossiers counted again (the counter's safety net)."""

    return workflow.recount_loads()
