"""What each role's dashboard shows: aggregate queries only, the slow ones cached a few seconds."""

from app.extensions import cache, db
from app.models import Email, EmailStatus, Role, User
from app.services.admin import approvals
from app.services.analytics.dashboard import sla_now
from app.services.analytics.figures import status_counts


@cache.cache_on_arguments()
def platform_counts() -> dict:
    """Users by role and failed emails: full scans, so one Redis entry shared by all admins."""
    rows = db.session.execute(
        db.select(User.role, db.func.count(User.id)).group_by(User.role)
    ).all()
    by_role = {role.value: 0 for role in Role}
    by_role.update({role.value: n for role, n in rows})
    failed = db.session.scalar(
        db.select(db.func.count(Email.id)).where(Email.status == EmailStatus.FAILED)
    )
    return {"users_by_role": by_role, "failed_emails": failed}


def recent_signups(limit: int = 8) -> list[User]:
    return list(
        db.session.scalars(
            db.select(User)
            .where(User.role != Role.ADMIN)
            .options(db.selectinload(User.client_profile))  # the list shows the company
            .order_by(User.id.desc())
            .limit(limit)
        )
    )


def admin_overview() -> dict:
    counts = platform_counts()

    clocks = sla_now()  # cached 30 s, and missed when an alert changes
    by_status = status_counts()  # the counter table: the dashboard never scans the dossiers
    return {
        "eligibility_to_check": by_status.get("pending_admin_validation", 0),
        "pending": approvals.pending_counts(),
        "users_by_role": counts["users_by_role"],
        "users_total": sum(counts["users_by_role"].values()),
        "recent_signups": recent_signups(),
        "failed_emails": counts["failed_emails"],
        # the clocks: what is late now, and what will be within two business hours
        "alerts_open": clocks["open"],
        "at_risk": clocks["at_risk"],
    }
