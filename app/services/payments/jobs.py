"""Payment jobs: apply a stored provider event (once), and the dunning retries."""

from app.core.jobs import public_context
from app.services.payments import events, fees, subscriptions

HANDLERS = {**subscriptions.HANDLERS, **fees.HANDLERS}


def process_event(event_pk: int) -> str:
    with public_context():
        return events.process(event_pk, HANDLERS)


def run_dunning() -> dict:
    with public_context():
        return subscriptions.run_dunning()
