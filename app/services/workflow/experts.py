"""Experts who may be offered a dossier (approved, holding the product, with room for one more)
and the active-dossier counter the marketplace filters on."""

from __future__ import annotations

from flask_babel import gettext as _

from app.core.errors import ValidationFailed
from app.core.validators import parse_id
from app.extensions import db
from app.models import (
    ApprovalStatus,
    Dossier,
    ExpertProduct,
    ExpertProfile,
    User,
)
from app.services import marketplace
from app.services.workflow.progress import EXPERT_LOAD


def offerable_experts_query(product_id: int):
    return (
        db.select(ExpertProfile)
        .join(ExpertProduct, ExpertProduct.expert_id == ExpertProfile.id)
        .join(User, User.id == ExpertProfile.user_id)
        .where(
            ExpertProduct.product_id == product_id,
            ExpertProduct.active.is_(True),
            ExpertProfile.approval_status == ApprovalStatus.APPROVED,
            ExpertProfile.available.is_(True),
            User.active.is_(True),
            ExpertProfile.active_dossiers < ExpertProfile.capacity,
        )
    )


def shift_load(expert_user_id: int | None, delta: int) -> None:
    if expert_user_id is not None and delta:
        db.session.execute(
            db.update(ExpertProfile)
            .where(ExpertProfile.user_id == expert_user_id)
            .values(active_dossiers=ExpertProfile.active_dossiers + delta)
        )


def recount_loads() -> int:
    """Every expert's active dossiers counted again from the dossiers (the nightly safety net
    behind the counter `transition()` keeps, and the only count after bulk imports)."""
    count = (
        db.select(db.func.count(Dossier.id))
        .where(Dossier.expert_id == ExpertProfile.user_id, Dossier.status.in_(EXPERT_LOAD))
        .scalar_subquery()
    )
    changed = db.session.execute(
        db.update(ExpertProfile)
        .where(ExpertProfile.active_dossiers != count)
        .values(active_dossiers=count)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return changed


def offerable(dossier: Dossier, expert_user_id) -> User:
    expert_user_id = parse_id(expert_user_id) or 0
    profile = db.session.scalar(
        offerable_experts_query(dossier.product_id).where(ExpertProfile.user_id == expert_user_id)
    )
    if profile is None:
        error = _(
            "This expert cannot take the dossier (not approved, not holding this product, "
            "or fully booked). Choose another one."
        )
        raise ValidationFailed(error, expert_id=error)
    return profile.user


def distributor_for(dossier: Dossier) -> User | None:
    """The partner for a quote: the product's distributor expert, else the best holder free."""

    query = offerable_experts_query(dossier.product_id).where(ExpertProduct.distributor.is_(True))
    profile = db.session.scalar(query.order_by(ExpertProfile.id).limit(1))
    if profile is not None:
        return profile.user
    rows = marketplace.search(marketplace.Filters(product_id=dossier.product_id), limit=1).rows
    return db.session.get(User, rows[0].user_id) if rows else None
