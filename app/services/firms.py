"""Cabinets (firms of experts): invitations the invited expert accepts or refuses, members with
a role, per-product minimum fees, the team's dossiers. The owner and managers run it; experts
and assistants belong to it. Who sees what is the policy's (`app.security`), not this module's."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.errors import Conflict, NotAllowed, ValidationFailed
from app.core.numbers import parse_percent_bp
from app.extensions import db
from app.models import (
    Dossier,
    Firm,
    FirmInvitation,
    FirmMember,
    FirmProduct,
    FirmRole,
    InvitationStatus,
    Product,
    Role,
    User,
    utcnow,
)
from app.security import (
    can_answer_invitation,
    firm_reads_dossiers_of,
    is_approved_expert,
    may_run_firm,
    require,
)
from app.services import notifications
from app.services.notifications import emails


def membership(user: User) -> FirmMember | None:
    return db.session.scalar(db.select(FirmMember).where(FirmMember.user_id == user.id))


def sight_for(viewer: User, dossier: Dossier) -> frozenset[int]:
    """What the policy needs to know of the viewer's firm for this dossier: its expert, when
    the viewer runs the firm that expert belongs to (`security.firm_reads_dossiers_of`).
    Read only when the dossier is not already the viewer's to see: one query, both rows."""
    if (
        viewer.role != Role.EXPERT
        or dossier.expert_id is None
        or dossier.is_party(viewer)
        or not is_approved_expert(viewer)
    ):
        return frozenset()
    rows = {
        m.user_id: m
        for m in db.session.scalars(
            db.select(FirmMember).where(FirmMember.user_id.in_((viewer.id, dossier.expert_id)))
        )
    }
    runner, member = rows.get(viewer.id), rows.get(dossier.expert_id)
    if firm_reads_dossiers_of(viewer, runner, member):
        return frozenset({dossier.expert_id})
    return frozenset()


def _runner(user: User) -> FirmMember:
    member = membership(user)
    if member is None or not may_run_firm(user, member):
        raise NotAllowed()
    return member


def create(owner: User, name: str) -> Firm:
    if owner.role != Role.EXPERT:
        raise NotAllowed()
    if not is_approved_expert(owner):
        raise Conflict(_("Your account must be approved before you can create a firm."))
    if membership(owner) is not None:
        raise Conflict(_("You already belong to a firm."))
    name = (name or "").strip()
    if not name or len(name) > 160:
        message = _("Give your firm a name (160 characters at most).")
        raise ValidationFailed(message, name=message)
    firm = Firm(name=name)
    firm.members.append(FirmMember(user_id=owner.id, role=FirmRole.OWNER))
    db.session.add(firm)
    db.session.flush()
    owner.expert_profile.firm_id = firm.id
    audit.record(owner, "cabinet.create", "cabinet", firm.id, None, name=name)
    db.session.commit()
    return firm


def invite(runner: User, email: str, role: str) -> FirmInvitation:
    """Ask an expert (by their account's email) to join the firm. Nothing is shared until they
    accept from their own account; they are told in the app and by email."""
    me = _runner(runner)
    try:
        member_role = FirmRole(role)
    except ValueError:
        member_role = None
    if member_role is None or member_role == FirmRole.OWNER:
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
    if _open_invitation(me.firm_id, user.id) is not None:
        message = _("This expert has already been invited; they have not answered yet.")
        raise ValidationFailed(message, email=message)
    invitation = FirmInvitation(
        firm_id=me.firm_id, user_id=user.id, role=member_role, invited_by_id=runner.id
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(runner, "cabinet.invite", "cabinet", me.firm_id, None, user_id=user.id, role=role)
    _tell(
        user,
        "firm_invitation",
        _l("%(firm)s invites you to join their firm", firm=me.firm.name),
        _l("Accept or refuse from your firm page. Until you accept, they see none of your work."),
        invitation,
        email=True,
    )
    db.session.commit()
    return invitation


def _open_invitation(firm_id: int, user_id: int) -> FirmInvitation | None:
    return db.session.scalar(
        db.select(FirmInvitation).where(
            FirmInvitation.firm_id == firm_id,
            FirmInvitation.user_id == user_id,
            FirmInvitation.status == InvitationStatus.PENDING,
        )
    )


def invitations_for(user: User) -> list[FirmInvitation]:
    """The invitations waiting for this expert's answer."""
    return list(
        db.session.scalars(
            db.select(FirmInvitation)
            .where(
                FirmInvitation.user_id == user.id,
                FirmInvitation.status == InvitationStatus.PENDING,
            )
            .options(db.joinedload(FirmInvitation.firm))
            .order_by(FirmInvitation.id)
        )
    )


def sent_invitations(firm_id: int) -> list[FirmInvitation]:
    return list(
        db.session.scalars(
            db.select(FirmInvitation)
            .where(
                FirmInvitation.firm_id == firm_id,
                FirmInvitation.status == InvitationStatus.PENDING,
            )
            .options(db.joinedload(FirmInvitation.user))
            .order_by(FirmInvitation.id)
        )
    )


def _mine(user: User, invitation_id: int) -> FirmInvitation:
    invitation = db.session.get(FirmInvitation, invitation_id)
    require(invitation is not None and can_answer_invitation(user, invitation))
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(_("This invitation has already been answered or withdrawn."))
    return invitation


def accept(user: User, invitation_id: int) -> FirmMember:
    invitation = _mine(user, invitation_id)
    if membership(user) is not None:
        raise Conflict(_("Leave your current firm before you join another one."))
    invitation.status, invitation.decided_at = InvitationStatus.ACCEPTED, utcnow()
    member = FirmMember(firm_id=invitation.firm_id, user_id=user.id, role=invitation.role)
    db.session.add(member)
    user.expert_profile.firm_id = invitation.firm_id
    audit.record(user, "cabinet.join", "cabinet", invitation.firm_id, None, role=member.role)
    if invitation.invited_by is not None:
        _tell(
            invitation.invited_by,
            "firm_invitation_accepted",
            _l("%(name)s has joined your firm", name=user.full_name),
            "",
            invitation,
        )
    db.session.commit()
    return member


def refuse(user: User, invitation_id: int) -> None:
    invitation = _mine(user, invitation_id)
    invitation.status, invitation.decided_at = InvitationStatus.REFUSED, utcnow()
    audit.record(user, "cabinet.refuse", "cabinet", invitation.firm_id, None)
    if invitation.invited_by is not None:
        _tell(
            invitation.invited_by,
            "firm_invitation_refused",
            _l("%(name)s has declined to join your firm", name=user.full_name),
            "",
            invitation,
        )
    db.session.commit()


def revoke(runner: User, invitation_id: int) -> None:
    me = _runner(runner)
    invitation = db.session.get(FirmInvitation, invitation_id)
    require(invitation is not None and invitation.firm_id == me.firm_id)
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(_("This invitation has already been answered or withdrawn."))
    invitation.status, invitation.decided_at = InvitationStatus.REVOKED, utcnow()
    audit.record(runner, "cabinet.revoke", "cabinet", me.firm_id, None, user=invitation.user_id)
    db.session.commit()


def remove_member(runner: User, member_id: int) -> None:
    me = _runner(runner)
    member = db.session.get(FirmMember, member_id)
    require(member is not None and member.firm_id == me.firm_id)
    if member.role == FirmRole.OWNER:
        raise Conflict(_("The owner cannot be removed from the firm."))
    _drop(member)
    audit.record(runner, "cabinet.remove_member", "cabinet", me.firm_id, None, user=member.user_id)
    _tell(
        member.user,
        "firm_removed",
        _l("You are no longer a member of %(firm)s", firm=me.firm.name),
        _l("The firm no longer sees your dossiers."),
        None,
    )
    db.session.commit()


def leave(user: User) -> None:
    """A member leaves the firm of their own accord; the owner cannot (the firm is theirs)."""
    member = membership(user)
    if member is None:
        raise NotAllowed()
    if member.role == FirmRole.OWNER:
        raise Conflict(_("As the owner, you cannot leave your own firm."))
    firm_id = member.firm_id
    _drop(member)
    audit.record(user, "cabinet.leave", "cabinet", firm_id, None)
    db.session.commit()


def _drop(member: FirmMember) -> None:
    if member.user.expert_profile is not None:
        member.user.expert_profile.firm_id = None
    db.session.delete(member)


def _tell(user: User, type: str, title, body, invitation, email: bool = False) -> None:

    link = url_for("account.firm")
    ref = f"cabinet_invitation:{invitation.id}" if invitation is not None else ""
    notifications.create(user, type, title, body, link=link, object_ref=ref, threshold=ref)
    if email:
        emails.queue_notification_email(
            user, type, type, title=title, body=body, link=emails.external_url("account.firm")
        )


def set_min_fees(owner: User, raw: dict[int, str]) -> None:
    """domain.md §6: the lowest fee (%) the firm's experts may negotiate per product (none: the fee
    is fixed for that product). Only the owner decides."""
    me = membership(owner)
    if me is None or me.role != FirmRole.OWNER:
        raise NotAllowed()
    errors, values = {}, {}
    for product_id, text in raw.items():
        text = (text or "").strip()
        if not text:
            values[product_id] = None
            continue
        try:
            bp = parse_percent_bp(text)
        except ValueError:
            bp = -1
        if not 0 < bp <= 10000:
            errors[f"min-{product_id}"] = _("Enter a percentage between 0 and 100, or nothing.")
        values[product_id] = bp
    if errors:
        raise ValidationFailed(next(iter(errors.values())), **errors)
    firm = me.firm
    existing = {p.product_id: p for p in firm.product_fees}
    for product_id, bp in values.items():
        if product_id in existing:
            existing[product_id].min_fee_bp = bp
        else:
            firm.product_fees.append(FirmProduct(product_id=product_id, min_fee_bp=bp))
    audit.record(owner, "cabinet.min_fees", "cabinet", firm.id, None, fees=values)
    db.session.commit()


def products() -> list[Product]:
    return list(
        db.session.scalars(db.select(Product).where(Product.active).order_by(Product.position))
    )


def team_dossiers(runner: User, limit: int = 50) -> list[Dossier]:
    """The dossiers the policy lets this firm runner read: their members' (see
    `security.firm_reads_dossiers_of`)."""
    me = membership(runner)
    if me is None or not may_run_firm(runner, me):
        return []
    members = db.select(FirmMember.user_id).where(FirmMember.firm_id == me.firm_id)
    return list(
        db.session.scalars(
            db.select(Dossier)
            .where(Dossier.expert_id.in_(members))
            .options(db.joinedload(Dossier.expert))
            .order_by(Dossier.id.desc())
            .limit(limit)
        )
    )
