"""What each role's dashboard shows: aggregate queries only, the slow ones cached a few seconds."""

from app.extensions import cache, db
from app.models import Email, EmailStatus, Role, User
from app.services import approvals


@cache.memoize(timeout=5)
def users_by_role() -> dict[str, int]:
    rows = db.session.execute(
        db.select(User.role, db.func.count(User.id)).group_by(User.role)
    ).all()
    counts = {role.value: 0 for role in Role}
    counts.update({role.value: n for role, n in rows})
    return counts


@cache.memoize(timeout=5)
def failed_email_count() -> int:
    return db.session.scalar(
        db.select(db.func.count(Email.id)).where(Email.status == EmailStatus.FAILED)
    )


def recent_signups(limit: int = 8) -> list[User]:
    return list(
        db.session.scalars(
            db.select(User).where(User.role != Role.ADMIN).order_by(User.id.desc()).limit(limit)
        )
    )


def admin_overview() -> dict:
    by_role = users_by_role()
    return {
        "pending": approvals.pending_counts(),
        "users_by_role": by_role,
        "users_total": sum(by_role.values()),
        "recent_signups": recent_signups(),
        "failed_emails": failed_email_count(),
    }
