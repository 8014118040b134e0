"""Referral links (docs/domain.md §1 `ClientProfile.referrer_id`): an active referrer shares
`/register?ref=<affiliation code>`; the client who signs up through it is theirs, and the two
may talk in a referral thread. Commissions build on this link in the referrer programme."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func

from app.extensions import db
from app.models import ClientProfile, Dossier, ReferrerProfile, ReferrerStatus, User
from app.services.notifications import emails

CODE = re.compile(r"^[A-Z]{3}\d{6}$")


def clean_code(raw: str | None) -> str | None:
    code = (raw or "").strip().upper()
    return code if CODE.match(code) else None


def referrer_by_code(code: str | None) -> User | None:
    """The active referrer owning this code, or None (an unknown or stale link is ignored)."""
    code = clean_code(code)
    if code is None:
        return None
    return db.session.scalar(
        db.select(User)
        .join(ReferrerProfile, ReferrerProfile.user_id == User.id)
        .where(
            ReferrerProfile.affiliation_code == code,
            ReferrerProfile.status == ReferrerStatus.ACTIVE,
            User.active.is_(True),
        )
    )


def link_for(referrer: User) -> str | None:
    profile = referrer.referrer_profile
    if profile is None or profile.status != ReferrerStatus.ACTIVE or not profile.affiliation_code:
        return None
    return emails.external_url("auth.register", ref=profile.affiliation_code)


@dataclass(frozen=True)
class ReferredClient:
    user: User
    company: str
    dossiers: int


def clients_of(referrer: User, limit: int = 100) -> list[ReferredClient]:
    """The clients this referrer brought, newest first, with their number of dossiers."""
    count = (
        db.select(func.count(Dossier.id))
        .where(Dossier.client_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )
    rows = db.session.execute(
        db.select(User, ClientProfile.company_name, count)
        .join(ClientProfile, ClientProfile.user_id == User.id)
        .where(ClientProfile.referrer_id == referrer.id)
        .order_by(User.created_at.desc(), User.id.desc())
        .limit(limit)
    ).all()
    return [ReferredClient(u, company, n) for u, company, n in rows]
