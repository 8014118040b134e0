"""Payment jobs: apply a stored provider event (once), and the dunning retries."""

from app.core.jobs import public_context
from app.services.payments import events, subscriptions


def process_event(event_pk: int) -> str:
    with public_context():
        return events.process(event_pk, subscriptions.HANDLERS)


def run_dunning() -> dict:
    with public_context():
        return subscriptions.run_dunning()
