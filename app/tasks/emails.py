"""Email jobs: thin wrappers, the service does the work."""

from app.services.notifications import emails


def send_email(email_id: int) -> bool:
    return emails.send(email_id)
