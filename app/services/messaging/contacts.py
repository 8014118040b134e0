"""Who may talk to whom (docs/domain.md, "Conversations"): the contact rules."""

from __future__ import annotations

from app.extensions import db
from app.models import (
    Dossier,
    Role,
    User,
)


def may_contact(sender: User, recipient: User) -> bool:
    """Contact rules (domain.md §7): admins reach anyone and everyone reaches the admins; clients
    and experts reach each other through a dossier they share; a referrer and a client reach
    each other when the client came through the referrer's link; a referrer never reaches an
    expert."""
    if not (sender.active and recipient.active) or sender.id == recipient.id:
        return False
    if sender.is_admin or recipient.is_admin:
        return True
    roles = {sender.role, recipient.role}
    if roles == {Role.REFERRER, Role.CLIENT}:
        client, referrer = (
            (sender, recipient) if sender.role == Role.CLIENT else (recipient, sender)
        )
        return (
            client.client_profile is not None and client.client_profile.referrer_id == referrer.id
        )
    if Role.REFERRER in roles:
        return False
    if roles == {Role.CLIENT, Role.EXPERT}:
        client, expert = (sender, recipient) if sender.role == Role.CLIENT else (recipient, sender)
        shared = db.select(Dossier.id).where(
            Dossier.client_id == client.id, Dossier.expert_id == expert.id
        )
        return db.session.scalar(shared.limit(1)) is not None
    return False
