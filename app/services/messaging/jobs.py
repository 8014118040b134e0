"""Messaging sweeps: unread messages become emails, then a daily digest."""

from app.core.jobs import public_context
from app.services import messaging


def email_unread_messages() -> int:
    """Messages still unread 10 minutes after they were sent: one email per thread."""

    with public_context():
        return messaging.email_unread()


def send_message_digests() -> int:
    """Hourly: the daily digest of unread messages for those whose local time is 8."""

    with public_context():
        return messaging.send_digests()
