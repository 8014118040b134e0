"""Cabinets (firms of experts): members with a role, per-product minimum fees, the team's
dossiers. The owner and managers run it; experts and assistants belong to it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from app.extensions import db
from app.models import (
    Cabinet,
    CabinetMember,
    CabinetProduct,
    CabinetRole,
    Dossier,
    Product,
    Role,
    User,
)
from app.services import audit
from app.services.errors import Conflict, NotAllowed, ValidationFailed

RUNNERS = (CabinetRole.OWNER, CabinetRole.MANAGER)


def membership(user: User) -> CabinetMember | None:
    return db.session.scalar(db.select(CabinetMember).where(CabinetMember.user_id == user.id))


def _runner(user: User) -> CabinetMember:
    member = membership(user)
    if member is None or member.role not in RUNNERS:
        raise NotAllowed()
    return member


def create(owner: User, name: str) -> Cabinet:
    if owner.role != Role.EXPERT:
        raise NotAllowed()
    if membership(owner) is not None:
        raise Conflict(_("You already belong to a firm."))
    name = (name or "").strip()
    if not name or len(name) > 160:
        message = _("Give your firm a name (160 characters at most).")
        raise ValidationFailed(message, name=message)
    cabinet = Cabinet(name=name)
    cabinet.members.append(CabinetMember(user_id=owner.id, role=CabinetRole.OWNER))
    db.session.add(cabinet)
    db.session.flush()
    owner.expert_profile.cabinet_id = cabinet.id
    audit.record(owner, "cabinet.create", "cabinet", cabinet.id, None, name=name)
    db.session.commit()
    return cabinet


def add_member(runner: User, email: str, role: str) -> CabinetMember:
    """Add an expert account (by email) that belongs to no firm yet."""
    me = _runner(runner)
    try:
        member_role = CabinetRole(role)
    except ValueError:
        member_role = None
    if member_role is None or member_role == CabinetRole.OWNER:
        message = _("Choose a role: manager, expert or assistant.")
        raise ValidationFailed(message, role=message)
    user = db.session.scalar(
        db.select(User).where(User.email == (email or "").strip().lower(), User.role == Role.EXPERT)
    )
    if user is None:
        message = _("No expert account uses this email address.")
        raise ValidationFailed(message, email=message)
    if membership(user) is not None:
        message = _("This expert already belongs to a firm.")
        raise ValidationFailed(message, email=message)
    member = CabinetMember(cabinet_id=me.cabinet_id, user_id=user.id, role=member_role)
    db.session.add(member)
    user.expert_profile.cabinet_id = me.cabinet_id
    audit.record(runner, "cabinet.add_member", "cabinet", me.cabinet_id, None, user_id=user.id)
    db.session.commit()
    return member


def remove_member(runner: User, member_id: int) -> None:
    me = _runner(runner)
    member = db.session.get(CabinetMember, member_id)
    if member is None or member.cabinet_id != me.cabinet_id:
        from app.services.errors import NotFound

        raise NotFound()
    if member.role == CabinetRole.OWNER:
        raise Conflict(_("The owner cannot be removed from the firm."))
    if member.user.expert_profile is not None:
        member.user.expert_profile.cabinet_id = None
    db.session.delete(member)
    audit.record(
        runner, "cabinet.remove_member", "cabinet", me.cabinet_id, None, user=member.user_id
    )
    db.session.commit()


def set_min_fees(owner: User, raw: dict[int, str]) -> None:
    """B §4.6: the lowest fee (%) the firm's experts may negotiate per product; empty = the fee
    is fixed for that product. Only the owner decides."""
    me = membership(owner)
    if me is None or me.role != CabinetRole.OWNER:
        raise NotAllowed()
    errors, values = {}, {}
    for product_id, text in raw.items():
        text = (text or "").strip().replace(",", ".")
        if not text:
            values[product_id] = None
            continue
        try:
            bp = int((Decimal(text) * 100).quantize(Decimal(1)))
        except InvalidOperation:
            bp = -1
        if not 0 < bp <= 10000:
            errors[f"min-{product_id}"] = _("Enter a percentage between 0 and 100, or nothing.")
        values[product_id] = bp
    if errors:
        raise ValidationFailed(next(iter(errors.values())), **errors)
    cabinet = me.cabinet
    existing = {p.product_id: p for p in cabinet.product_fees}
    for product_id, bp in values.items():
        if product_id in existing:
            existing[product_id].min_fee_bp = bp
        else:
            cabinet.product_fees.append(CabinetProduct(product_id=product_id, min_fee_bp=bp))
    audit.record(owner, "cabinet.min_fees", "cabinet", cabinet.id, None, fees=values)
    db.session.commit()


def products() -> list[Product]:
    return list(
        db.session.scalars(db.select(Product).where(Product.active).order_by(Product.position))
    )


def team_dossiers(runner: User, limit: int = 50) -> list[Dossier]:
    me = membership(runner)
    if me is None or me.role not in RUNNERS:
        return []
    members = db.select(CabinetMember.user_id).where(CabinetMember.cabinet_id == me.cabinet_id)
    return list(
        db.session.scalars(
            db.select(Dossier)
            .where(Dossier.expert_id.in_(members))
            .options(db.joinedload(Dossier.expert))
            .order_by(Dossier.id.desc())
            .limit(limit)
        )
    )


def runs_cabinet_of(viewer: User, expert_id: int | None) -> bool:
    """True when `viewer` owns or manages the firm `expert_id` works in (read access)."""
    if expert_id is None:
        return False
    me = membership(viewer)
    if me is None or me.role not in RUNNERS:
        return False
    return (
        db.session.scalar(
            db.select(CabinetMember.id).where(
                CabinetMember.cabinet_id == me.cabinet_id, CabinetMember.user_id == expert_id
            )
        )
        is not None
    )
