"""Email: rendered once into a row in the recipient's language, then sent by a job with retries."""

from typing import Any

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_mailman import EmailMultiAlternatives
from rq import Retry

from app.core import metrics, storage
from app.core.db import after_commit
from app.core.errors import NotFound
from app.core.jobs import enqueue
from app.extensions import db
from app.models import Email, EmailStatus, User, utcnow
from app.services.notifications import preferences

SUBJECTS = {
    "verify_email": _l("Confirm your email address"),
    "password_reset": _l("Reset your password"),
    "signup_existing": _l("Someone tried to sign up with your email address"),
    "application_received": _l("We have received your application"),
    "application_to_review": _l("A new application is waiting for review"),
    "application_approved": _l("Your application has been approved"),
    "application_rejected": _l("Your application has not been accepted"),
    "message_unread": _l("You have an unread message on FinancialTracker"),
    "message_digest": _l("Your unread messages of the day"),
    "dossier_event": _l("Your dossier has moved on"),
    "invoice_issued": _l("An invoice has been issued"),
    "firm_invitation": _l("You are invited to join a firm"),
    "sla_breach": _l("Deadlines passed on your dossiers"),
    "sla_escalated": _l("Late dossiers need the platform's attention"),
    "reminder_summary": _l("What is waiting for you today"),
    "reminder_item": _l("A reminder about your dossier"),
    "morning_report": _l("The platform this morning"),
    "payment_receipt": _l("Your payment receipt"),
    "payment_failed": _l("Your payment did not go through"),
    "plan_changed": _l("Your plan has changed"),
    "payout_processed": _l("Your commissions have been paid"),
    "lead_received": _l("We have received your request"),
    "lead_invitation": _l("Your FinancialTracker account is ready to be opened"),
    "staff_invitation": _l("You have a staff account on FinancialTracker"),
    "tasks_overdue": _l("Your sales tasks that are late"),
    "ticket_opened": _l("We have received your request for help"),
    "ticket_reply": _l("A reply to your request for help"),
    "ticket_resolved": _l("Your request for help is resolved"),
    "report_ready": _l("Your scheduled report"),
    "report_failed": _l("A scheduled report could not be sent"),
    "service_alert": _l("FinancialTracker service alert"),
    "pack_ready": _l("Your dossier pack is ready"),
}


def queue_notification_email(user: User, notification_type: str, template: str, **context):
    """An email about an event, if the user wants this family by email; held until their
    quiet hours end. Account emails (verification, password) never go through here."""

    if not preferences.wants(user, notification_type, "email"):
        return None
    return queue_email(user, template, send_at=preferences.quiet_end(user), **context)


def queue_email(user: User, template: str, send_at=None, **context: Any) -> Email:
    """Render `template` for `user` and send it after the current transaction commits (or at
    `send_at`, through the workers' scheduler)."""
    return queue_email_to(user.email, user.locale, template, send_at, user=user, **context)


def queue_email_to(
    address: str,
    locale: str,
    template: str,
    send_at=None,
    user: User | None = None,
    reply_to: str | None = None,
    subject: str | None = None,
    attachments: list[dict] | None = None,
    **context,
) -> Email:
    """The same for someone without an account (a prospect who left their address).
    `reply_to`: where an answer by email should go (a ticket's own address)."""
    with force_locale(locale):
        ctx = {"user": user, "email_locale": locale, **context}
        email = Email(
            user_id=user.id if user is not None else None,
            recipient=address,
            reply_to=reply_to,
            template=template,
            locale=locale,
            subject=str(subject or SUBJECTS[template]),
            body_text=render_template(f"emails/{template}.txt", **ctx),
            body_html=render_template(f"emails/{template}.html", **ctx),
            attachments=attachments or None,
        )
    db.session.add(email)
    db.session.flush()
    email_id = email.id
    after_commit(lambda: enqueue_send(email_id, send_at))
    return email


def enqueue_send(email_id: int, send_at=None):
    intervals = current_app.config.get("EMAIL_RETRY_INTERVALS", [10, 60, 300])
    retry = Retry(max=len(intervals), interval=intervals)
    return enqueue(
        "high",
        "app.services.notifications.jobs.send_email",
        email_id,
        at=send_at,
        job_id=f"email-{email_id}",
        retry=retry,
    )


def send(email_id: int) -> bool:
    """Deliver one email row over SMTP. Idempotent: a sent row is never sent again.

    Raises the SMTP error after recording it, so that RQ retries the job.
    """
    email = db.session.get(Email, email_id)
    if email is None or email.status == EmailStatus.SENT:
        return False
    email.attempts += 1
    db.session.commit()
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=[email.recipient],
        reply_to=[email.reply_to] if email.reply_to else None,
    )
    message.attach_alternative(email.body_html, "text/html")
    for item in email.attachments or ():
        message.attach(item["filename"], storage.read(item["key"]), item["mime"])
    try:
        message.send(fail_silently=False)
    except Exception as exc:
        email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        max_attempts = 1 + len(current_app.config.get("EMAIL_RETRY_INTERVALS", [10, 60, 300]))
        if email.attempts >= max_attempts:
            email.status = EmailStatus.FAILED
        db.session.commit()
        metrics.EMAILS.labels("failed").inc()
        raise
    email.status = EmailStatus.SENT
    email.sent_at = utcnow()
    email.last_error = None
    db.session.commit()
    metrics.EMAILS.labels("sent").inc()
    return True


def resend(email_id: int) -> Email:

    email = db.session.get(Email, email_id)
    if email is None:
        raise NotFound()
    if email.status == EmailStatus.FAILED:
        email.status = EmailStatus.QUEUED
        email.attempts = 0
        db.session.commit()
        enqueue_send(email.id)
    return email


def outbox_page(before_id: int | None = None, status: str | None = None, limit: int = 50):
    query = db.select(Email)
    if before_id:
        query = query.where(Email.id < before_id)
    if status:
        query = query.where(Email.status == status)
    rows = db.session.scalars(query.order_by(Email.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def external_url(endpoint: str, **values: Any) -> str:
    """Absolute link for an email, built on PUBLIC_URL (the request host may be internal)."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return current_app.config["PUBLIC_URL"].rstrip("/") + path
