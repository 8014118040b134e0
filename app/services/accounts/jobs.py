"""Account sweeps: spent reset links and idle login counters go, unverified accounts are
reminded once. Each is idempotent and bounded per run."""

from app.services.accounts import login_throttle, passwords, verification

BATCH = 500


def purge_reset_tokens() -> int:
    """Spent reset links and login counters nobody has added to for a day."""
    return passwords.purge_expired_reset_tokens() + login_throttle.purge_idle()


def remind_unverified_emails() -> int:
    return verification.remind_unverified(BATCH)
