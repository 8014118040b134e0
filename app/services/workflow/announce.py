"""Telling the parties about a transition, in a worker after commit: the system message in the
thread, notifications and emails to whoever must act next (and the client for outcomes), the
admins when an administrator is waited on. Also the invoice hand-off after a refund."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core.errors import InvalidTransition
from app.core.jobs import enqueue
from app.extensions import db
from app.models import (
    Dossier,
    DossierEvent,
    Party,
    Priority,
    User,
    utcnow,
)
from app.security import can_view_dossier, require
from app.services import messaging, notifications
from app.services.notifications import emails
from app.services.workflow.actions import ACTIONS, Action
from app.services.workflow.labels import status_label
from app.services.workflow.notify import notify_party
from app.services.workflow.progress import S


def request_announcement(event_id: int) -> None:

    enqueue(
        "high", "app.services.workflow.jobs.announce", event_id, job_id=f"dossier-event-{event_id}"
    )


def announce(event_id: int) -> bool:
    """Tell the parties about a transition: the system message in the dossier's thread, then
    the notifications and emails of docs/domain.md §8, as things stood when it happened.

    Run by a worker once the transition has committed, and again by the sweep for any the
    queue lost; idempotent (the event row is locked and marked). Needs a request context for
    the links. Returns False when there was nothing (more) to do.
    """
    event = db.session.get(DossierEvent, event_id, with_for_update=True)
    if event is None or event.announced_at is not None:
        db.session.rollback()
        return False
    dossier = db.session.get(Dossier, event.dossier_id)
    messaging.system_message(dossier, event.action)
    action = ACTIONS.get(event.action)
    if action is not None:
        notify_parties(dossier, event, action)
    event.announced_at = utcnow()
    db.session.commit()
    return True


def unannounced_events(limit: int = 500) -> list[int]:
    """Transitions still unannounced a minute after they happened: their job was lost."""
    return list(
        db.session.scalars(
            db.select(DossierEvent.id)
            .where(
                DossierEvent.announced_at.is_(None),
                DossierEvent.created_at < utcnow() - timedelta(minutes=1),
            )
            .order_by(DossierEvent.created_at)
            .limit(limit)
        )
    )


def reissue_invoice(dossier_id: int, admin: User) -> None:
    """An admin asks for the invoice again (once a missing rate is fixed).

    :raises NotFound: not an admin's dossier to see.
    :raises InvalidTransition: no refund confirmed yet, so nothing to invoice.
    """
    dossier = db.session.get(Dossier, dossier_id)
    require(dossier is not None and admin.is_admin and can_view_dossier(admin, dossier))
    if dossier.obtained_cents is None:
        raise InvalidTransition(
            _("The refund has not been confirmed yet: there is nothing to invoice.")
        )
    request_invoice(dossier.id)


def request_invoice(dossier_id: int) -> None:
    """The invoice PDF is built by a worker (one job per dossier, so a retry never doubles)."""

    enqueue(
        "default",
        "app.services.dossiers.jobs.issue_invoice",
        dossier_id,
        job_id=f"invoice-{dossier_id}",
    )


def notify_parties(dossier: Dossier, event: DossierEvent, action: Action) -> None:
    waiting, status = event.waiting_on, S(event.after)
    targets: list[int | None] = []
    if waiting == Party.CLIENT:
        targets.append(dossier.client_id)
    elif waiting == Party.EXPERT:
        targets.append(event.expert_id)
    if status in (S.ADMINISTRATION_DECIDED, S.COMPLETED, S.REFUND_CONFIRMED):
        targets.append(dossier.client_id)
    for user_id in dict.fromkeys(t for t in targets if t is not None and t != event.actor_id):
        user = db.session.get(User, user_id)
        if user is None:
            continue
        with_status = _l(
            "Dossier %(product)s: %(status)s",
            product=dossier.product.name,
            status=status_label(status),
        )
        notify_party(
            user,
            dossier,
            f"dossier_{action.name}",
            with_status,
            _l("Open the dossier to see what comes next."),
            Priority.HIGH if waiting in (Party.CLIENT, Party.EXPERT) else Priority.MEDIUM,
            threshold=f"e{event.id}",
        )
        emails.queue_notification_email(
            user,
            f"dossier_{action.name}",
            "dossier_event",
            product=dossier.product.name,
            status=status.value,
            yours=waiting == (Party.CLIENT if user.id == dossier.client_id else Party.EXPERT),
            link=emails.external_url("dossiers.show", dossier_id=dossier.id),
        )
    if waiting == Party.ADMIN and action.name != "hold":
        notifications.notify_admins(
            f"dossier_{action.name}",
            _l("A dossier needs an administrator: %(product)s", product=dossier.product.name),
            link=url_for("dossiers.show", dossier_id=dossier.id),
            priority=Priority.HIGH,
            object_ref=f"dossier:{dossier.id}:e{event.id}",
        )
