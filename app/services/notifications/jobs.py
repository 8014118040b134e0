"""Notification jobs: an email or a push leaves from a worker, retried by RQ."""

from app.services.notifications import emails, push


def send_email(email_id: int) -> bool:
    return emails.send(email_id)


def deliver_push(delivery_id: int) -> bool:
    return push.deliver(delivery_id)
