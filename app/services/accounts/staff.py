"""Staff accounts (docs/domain.md A11): admins create sellers, support agents and other admins,
change their role among those, deactivate and reactivate them. A new account has no usable
password: its owner chooses one through the emailed link (valid a week, single use)."""

from __future__ import annotations

import secrets

from flask_babel import gettext as _

from app.core import audit
from app.core.errors import NotFound, ValidationFailed
from app.core.validators import normalize_email
from app.extensions import db
from app.models import STAFF, Role, User
from app.security import can_manage_staff, require
from app.services.accounts import passwords, sessions

INVITATION_MAX_AGE = 7 * 86400
ROLES = (Role.SALES, Role.SUPPORT, Role.ADMIN)


def listing(viewer: User) -> list[User]:
    require(can_manage_staff(viewer))
    return db.session.scalars(
        db.select(User).where(User.role.in_(STAFF)).order_by(User.role, User.last_name, User.id)
    ).all()


def get(viewer: User, user_id: int) -> User:
    require(can_manage_staff(viewer))
    user = db.session.get(User, user_id)
    if user is None or not user.is_staff:
        raise NotFound()
    return user


def _role(raw) -> Role:
    try:
        role = Role(raw)
    except ValueError:
        role = None
    if role not in ROLES:
        raise ValidationFailed(_("Choose a staff role."), role=_("Choose a staff role."))
    return role


def create(
    admin: User,
    *,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    locale: str = "fr",
    ip: str | None = None,
) -> User:
    require(can_manage_staff(admin))
    role = _role(role)
    email = normalize_email(email)
    if db.session.scalar(db.select(User.id).where(User.email == email)):
        raise ValidationFailed(
            _("An account already uses this address."),
            email=_("An account already uses this address."),
        )
    user = User(
        email=email,
        # nobody knows it: the owner sets theirs through the invitation
        password_hash=passwords.hash_password(secrets.token_urlsafe(32)),
        role=role,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    passwords.issue_password_link(user, "staff_invitation", INVITATION_MAX_AGE)
    audit.record(admin, "staff.create", "user", user.id, ip, role=role.value)
    db.session.commit()
    return user


def resend_invitation(admin: User, user: User, ip: str | None = None) -> None:
    require(can_manage_staff(admin))
    passwords.issue_password_link(user, "staff_invitation", INVITATION_MAX_AGE)
    audit.record(admin, "staff.invite", "user", user.id, ip)
    db.session.commit()


def update(admin: User, user: User, *, role: str, active: bool, ip: str | None = None) -> User:
    """A new role or an account turned off (which ends its sessions at once). An admin cannot
    demote or deactivate themselves: the platform must keep someone who can undo it."""
    require(can_manage_staff(admin))
    role = _role(role)
    if user.id == admin.id and (role != Role.ADMIN or not active):
        raise ValidationFailed(_("You cannot take your own admin rights away."))
    changed = {}
    if role != user.role:
        changed["role"] = role.value
        user.role = role
    if active != user.active:
        changed["active"] = active
        user.active = active
    if changed:
        audit.record(admin, "staff.update", "user", user.id, ip, **changed)
    db.session.commit()
    if changed.get("active") is False or "role" in changed:
        sessions.end_all(user)  # what they could do in an open tab ends with the change
    return user
