"""Audit log of admin actions. Written in the same transaction as the action it records."""

from typing import Any

from app.extensions import db
from app.models import AuditLog, User


def record(
    actor: User | None,
    action: str,
    target_type: str,
    target_id: int | None,
    ip: str | None,
    **details: Any,
) -> AuditLog:
    entry = AuditLog(
        actor_id=actor.id if actor else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        ip=ip,
        details=details,
    )
    db.session.add(entry)
    return entry


def page(before_id: int | None = None, action: str | None = None, limit: int = 50):
    """Newest first, keyset on id."""
    query = db.select(AuditLog).options(db.joinedload(AuditLog.actor))
    if before_id:
        query = query.where(AuditLog.id < before_id)
    if action:
        query = query.where(AuditLog.action == action)
    rows = db.session.scalars(query.order_by(AuditLog.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def actions() -> list[str]:
    return list(db.session.scalars(db.select(AuditLog.action).distinct().order_by(AuditLog.action)))
