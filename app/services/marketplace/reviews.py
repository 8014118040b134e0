"""Reviews: the client rates the expert once per completed dossier; the expert may answer
once; an admin may hide abusive content (audited). The expert's average follows."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from app.extensions import db
from app.models import Dossier, ExpertProfile, Priority, Review, User, utcnow
from app.security import can_review_expert, can_view_dossier, require
from app.services import firms, notifications


def for_dossier(dossier_id: int) -> Review | None:
    return db.session.scalar(db.select(Review).where(Review.dossier_id == dossier_id))


def create(dossier_id: int, client: User, rating, text: str) -> Review:
    dossier = db.session.get(Dossier, dossier_id)
    require(
        dossier is not None and can_view_dossier(client, dossier, firms.sight_for(client, dossier))
    )
    if client.id != dossier.client_id:
        raise InvalidTransition(_("Only the client of a dossier can review its expert."))
    if not can_review_expert(client, dossier):
        raise InvalidTransition(_("You can review your expert once the dossier is completed."))
    if for_dossier(dossier.id) is not None:
        raise Conflict(_("You have already reviewed the expert of this dossier."))
    try:
        stars = int(rating)
    except (TypeError, ValueError):
        stars = 0
    text = (text or "").strip()
    errors = {}
    if not 1 <= stars <= 5:
        errors["rating"] = _("Choose a rating from 1 to 5 stars.")
    if len(text) > 2000:
        errors["text"] = _("At most %(n)d characters.", n=2000)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), **errors)
    review = Review(
        dossier_id=dossier.id,
        expert_id=dossier.expert_id,
        client_id=client.id,
        rating=stars,
        text=text,
    )
    db.session.add(review)
    db.session.flush()
    _refresh_average(dossier.expert_id)
    notifications.create(
        dossier.expert,
        "review_received",
        _l("A client reviewed your work"),
        body=text[:200],
        link=f"/experts/{dossier.expert_id}#review-{review.id}",
        priority=Priority.LOW,
        object_ref=f"review:{review.id}",
    )
    db.session.commit()
    return review


def answer(review_id: int, expert: User, text: str) -> Review:
    review = db.session.get(Review, review_id)
    if review is None or review.expert_id != expert.id:
        raise NotFound()
    if review.answer is not None:
        raise Conflict(_("You have already answered this review."))
    text = (text or "").strip()
    if not text or len(text) > 2000:
        message = _("Write an answer of 1 to 2 000 characters.")
        raise ValidationFailed(message, answer=message)
    review.answer, review.answered_at = text, utcnow()
    db.session.commit()
    return review


def hide(review_id: int, admin: User, ip: str | None = None) -> Review:
    require(admin.is_admin)
    review = db.session.get(Review, review_id)
    if review is None:
        raise NotFound()
    if review.hidden_at is None:
        review.hidden_at, review.hidden_by_id = utcnow(), admin.id
        audit.record(admin, "review.hide", "review", review.id, ip, expert_id=review.expert_id)
        _refresh_average(review.expert_id)
        db.session.commit()
    return review


def _refresh_average(expert_user_id: int) -> None:
    """Recomputed from the visible reviews (never incremented), so hiding one is exact."""
    avg, count = db.session.execute(
        db.select(db.func.avg(Review.rating), db.func.count(Review.id)).where(
            Review.expert_id == expert_user_id, Review.hidden_at.is_(None)
        )
    ).one()
    db.session.execute(
        db.update(ExpertProfile)
        .where(ExpertProfile.user_id == expert_user_id)
        .values(rating_x100=int(round(float(avg or 0) * 100)), rating_count=count)
    )
