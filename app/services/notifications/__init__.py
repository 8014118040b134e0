"""In-app notifications: create (idempotent), list, mark read, unread count.

A lower layer: every feature tells people things through here, and this package knows no
feature (a contract in pyproject.toml holds it). What a notification is about reaches it as
plain values (a type, a title, a link, an object reference), never as a feature's object."""

from flask_babel import force_locale
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Notification, Priority, Role, User, utcnow
from app.realtime import notify
from app.security import can_view_notification, require
from app.services.notifications import preferences, push


def create(
    user: User,
    type: str,
    title,
    body="",
    link: str | None = None,
    priority: Priority = Priority.MEDIUM,
    object_ref: str = "",
    threshold: str = "",
) -> Notification | None:
    """Add a notification unless the same (user, type, object, threshold) already exists.

    `title` and `body` may be lazy strings: they are rendered in the recipient's language.
    Returns None for a duplicate. The `notification:new` signal leaves after commit.
    """

    if not preferences.wants(user, type, "in_app"):
        return None  # the user turned this family off in the app
    with force_locale(user.locale):
        values = dict(title=str(title), body=str(body), link=link, priority=priority)
    key = dict(user_id=user.id, type=type, object_ref=object_ref, threshold=threshold)
    # one statement: an existing twin (a repeated sweep, a concurrent job) wins the unique key
    # and nothing comes back
    notification = db.session.scalar(
        _insert_unless_present().values(**key, **values).returning(Notification)
    )
    if notification is None:
        return None
    notify.to_user(user.id, "notification:new", notification_id=notification.id)
    if push.enabled() and preferences.wants(user, type, "push"):
        push.queue(notification)
    return notification


def _insert_unless_present():
    """INSERT … ON CONFLICT DO NOTHING, in the database's own dialect."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(Notification).on_conflict_do_nothing()


def active_admins() -> list[User]:
    """Who receives what is addressed to "the admins"."""
    return db.session.scalars(
        db.select(User).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id)
    ).all()


def notify_admins(type: str, title, body="", link=None, priority=Priority.MEDIUM, object_ref=""):

    for admin in active_admins():
        create(admin, type, title, body, link, priority, object_ref)


def unread_query(user: User):
    """How many notifications `user` has not read, as a query (the header counts it beside the
    unread messages, in one round trip: messaging.inbox.badge_counts)."""
    return db.select(db.func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )


def page(user: User, before_id: int | None = None, unread_only: bool = False, limit: int = 30):
    query = db.select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before_id:
        query = query.where(Notification.id < before_id)
    rows = db.session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def get(user: User, notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    require(notification is not None and can_view_notification(user, notification))
    return notification


def mark_read(user: User, notification_id: int) -> Notification:
    notification = get(user, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        notify.to_user(user.id, "notification:read", notification_id=notification.id)
        db.session.commit()
    return notification


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        db.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    notify.to_user(user.id, "notification:read")
    db.session.commit()
    return result.rowcount
