"""Admin directory of users: filtered, keyset-paginated (newest first)."""

from app.core.validators import normalize_email
from app.extensions import db
from app.models import Role, User


def page(
    role: str | None = None,
    email_prefix: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
):
    query = db.select(User)
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    if email_prefix:
        # a prefix match uses the unique index on email
        escaped = normalize_email(email_prefix).replace("\\", "\\\\").replace("%", r"\%")
        query = query.where(User.email.like(escaped.replace("_", r"\_") + "%", escape="\\"))
    if before_id:
        query = query.where(User.id < before_id)
    rows = db.session.scalars(query.order_by(User.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)
