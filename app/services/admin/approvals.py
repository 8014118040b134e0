"""Admins approve or reject expert and apporteur applications (audited, applicant emailed)."""

import secrets

from flask import g, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    ApprovalStatus,
    ExpertProfile,
    Priority,
    ReferrerProfile,
    ReferrerStatus,
    Role,
    User,
    utcnow,
)
from app.realtime import notify
from app.security import can_decide_applications
from app.services import notifications
from app.services.notifications import emails

KINDS = ("expert", "apporteur")


def _applicant(kind: str, user_id: int) -> User:
    role = {"expert": Role.EXPERT, "apporteur": Role.REFERRER}.get(kind)
    user = db.session.get(User, user_id)
    if role is None or user is None or user.role != role or user.profile is None:
        raise NotFound()
    return user


PENDING_REFERRER = (ReferrerStatus.CANDIDATURE, ReferrerStatus.PENDING_APPROVAL)


def _new_affiliation_code() -> str:
    while True:
        code = f"AFF{secrets.randbelow(10**6):06d}"
        taken = db.session.scalar(
            db.select(ReferrerProfile.id).where(ReferrerProfile.affiliation_code == code)
        )
        if taken is None:
            return code


def decide(
    admin: User,
    kind: str,
    user_id: int,
    approve: bool,
    reason: str = "",
    ip: str | None = None,
) -> User:
    """Approve or reject one pending application.

    :raises NotAllowed: the actor is not an admin.
    :raises NotFound: no such applicant of that kind.
    :raises ValidationFailed: a rejection without a reason.
    :raises Conflict: already decided (by another admin, say).
    """
    if not can_decide_applications(admin):
        raise NotAllowed()
    reason = (reason or "").strip()
    if not approve and not reason:
        message = _("Give the applicant a reason for the rejection.")
        raise ValidationFailed(message, reason=message)
    user = _applicant(kind, user_id)
    now = utcnow()
    decision = {
        "decided_by_id": admin.id,
        "decided_at": now,
        "decision_reason": reason or None,
    }
    if user.role == Role.EXPERT:
        model, pending = (
            ExpertProfile,
            ExpertProfile.approval_status == ApprovalStatus.PENDING,
        )
        decision["approval_status"] = (
            ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
        )
    else:
        model, pending = (
            ReferrerProfile,
            ReferrerProfile.status.in_(PENDING_REFERRER),
        )
        decision["status"] = ReferrerStatus.ACTIVE if approve else ReferrerStatus.REJECTED
        if approve and not user.referrer_profile.affiliation_code:
            decision["affiliation_code"] = _new_affiliation_code()
    # compare-and-set: of two admins deciding at once, exactly one updates the row
    updated = db.session.execute(
        db.update(model).where(model.id == user.profile.id, pending).values(**decision)
    ).rowcount
    if updated != 1:
        db.session.rollback()
        raise Conflict(_("This application has already been decided."))
    db.session.refresh(user.profile)
    action = f"{kind}.{'approve' if approve else 'reject'}"
    audit.record(admin, action, "user", user.id, ip, reason=reason or None, email=user.email)
    if approve:
        notifications.create(
            user,
            "application_approved",
            _l("Your application has been approved"),
            body=_l("Welcome aboard! Your account is now active."),
            link=url_for("main.dashboard"),
            priority=Priority.HIGH,
            object_ref=f"user:{user.id}",
        )
        emails.queue_email(user, "application_approved", link=emails.external_url("main.dashboard"))
    else:
        notifications.create(
            user,
            "application_rejected",
            _l("Your application has not been accepted"),
            body=reason,
            link=url_for("main.dashboard"),
            priority=Priority.HIGH,
            object_ref=f"user:{user.id}",
        )
        emails.queue_email(user, "application_rejected", reason=reason)
    notify.to_admins("approvals:changed", user_id=user.id)
    notify.to_user(user.id, "application:decided", user_id=user.id)
    db.session.commit()
    g.pop("pending_counts", None)
    return user


def pending_counts() -> dict[str, int]:
    """Applications waiting for a decision: one query, computed once per request.

    The header badge and the page both show it; a decision in this request clears it.
    """
    if "pending_counts" not in g:
        experts = (
            db.select(db.func.count(ExpertProfile.id))
            .where(ExpertProfile.approval_status == ApprovalStatus.PENDING)
            .scalar_subquery()
        )
        referrers = (
            db.select(db.func.count(ReferrerProfile.id))
            .where(ReferrerProfile.status.in_(PENDING_REFERRER))
            .scalar_subquery()
        )
        row = db.session.execute(db.select(experts, referrers)).one()
        g.pending_counts = {"expert": row[0], "apporteur": row[1], "total": row[0] + row[1]}
    return g.pending_counts


def pending_page(kind: str, after_id: int | None = None, limit: int = 10):
    """Oldest application first (first come, first served), keyset on the profile id.

    Ten full review cards per kind: an admin decides one at a time, and each card carries two
    forms, so a longer page only costs render time on both ends.
    """
    if kind == "expert":
        model, pending = (
            ExpertProfile,
            ExpertProfile.approval_status == ApprovalStatus.PENDING,
        )
    else:
        model = ReferrerProfile
        pending = ReferrerProfile.status.in_(PENDING_REFERRER)
    query = db.select(model).where(pending).options(db.joinedload(model.user))
    if after_id:
        query = query.where(model.id > after_id)
    rows = db.session.scalars(query.order_by(model.id).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)
