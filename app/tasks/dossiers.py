"""Dossier jobs: a transition's announcement (thread, notifications, emails) runs here, after
the transition has committed, so the person acting never waits for it."""

from flask import current_app

from app.services import workflow


def announce(event_id: int) -> bool:
    # notifications and emails carry links: build them against the public address
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return workflow.announce(event_id)
