"""One in-app notification about a dossier, linked to it and deduplicated per dossier version
(or per event)."""

from __future__ import annotations

from flask import url_for

from app.models import (
    Dossier,
    User,
)
from app.services import notifications


def notify_party(
    user: User | None, dossier: Dossier, type_: str, title, body, priority, threshold=None
) -> None:
    if user is None:
        return
    notifications.create(
        user,
        type_,
        title,
        body=body,
        link=url_for("dossiers.show", dossier_id=dossier.id),
        priority=priority,
        object_ref=f"dossier:{dossier.id}",
        threshold=threshold or f"v{dossier.version}",
    )
