"""Dossier jobs: a transition's announcement (thread, notifications, emails) runs here, after
the transition has committed, so the person acting never waits for it."""

from app.services import workflow
from app.tasks import public_context


def announce(event_id: int) -> bool:
    with public_context():
        return workflow.announce(event_id)
