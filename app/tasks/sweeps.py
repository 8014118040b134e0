"""Periodic sweeps enqueued by app.cron. Each is idempotent and bounded per run."""

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.core import outbox
from app.extensions import db
from app.models import Notification, Priority, User, utcnow
from app.services import accounts, messaging, notifications, workflow
from app.services.accounts import login_throttle
from app.services.simulator import exports, simulations
from app.tasks import public_context

BATCH = 500


def purge_reset_tokens() -> int:
    """Spent reset links and login counters nobody has added to for a day."""
    return accounts.purge_expired_reset_tokens() + login_throttle.purge_idle()


def purge_visitor_simulations() -> int:
    return simulations.purge_visitor_simulations(BATCH)


def purge_expired_exports() -> int:
    return exports.purge_expired(BATCH)


def fail_stalled_exports() -> int:
    return exports.fail_stalled(BATCH)


def remind_unverified_emails() -> int:
    """One in-app reminder per account still unverified 24 h after sign-up (within 7 days)."""
    now = utcnow()
    already = db.select(Notification.user_id).where(
        Notification.type == "verify_email_reminder", Notification.threshold == "24h"
    )
    users = db.session.scalars(
        db.select(User)
        .where(
            User.email_verified_at.is_(None),
            User.active.is_(True),
            User.created_at <= now - timedelta(hours=24),
            User.created_at > now - timedelta(days=7),
            User.id.not_in(already),
        )
        .order_by(User.id)
        .limit(BATCH)
    ).all()
    for user in users:
        notifications.create(
            user,
            "verify_email_reminder",
            _l("Please confirm your email address"),
            body=_l("Open the link we emailed you, or ask for a new one from your profile."),
            link="/account/profile",
            priority=Priority.MEDIUM,
            object_ref=f"user:{user.id}",
            threshold="24h",
        )
    db.session.commit()
    return len(users)


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


def email_unread_messages() -> int:
    """Messages still unread 10 minutes after they were sent: one email per thread."""

    with public_context():
        return messaging.email_unread()


def send_message_digests() -> int:
    """Hourly: the daily digest of unread messages for those whose local time is 8."""

    with public_context():
        return messaging.send_digests()


def flush_outbox() -> int:
    """Signals and jobs that waited for Redis go out, oldest first (app.core.outbox)."""

    with public_context():
        return outbox.flush()
