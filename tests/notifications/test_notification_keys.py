"""A notification with a key is created once, however often it is asked for."""

from app.extensions import db
from app.models import Notification
from app.services import messaging, notifications
from tests.factories.models import gen_client


def test_notification_idempotent_on_key(ctx):
    user = gen_client(ctx)
    first = notifications.create(user, "t", "Title", object_ref="user:1", threshold="24h")
    second = notifications.create(user, "t", "Title", object_ref="user:1", threshold="24h")
    other = notifications.create(user, "t", "Title", object_ref="user:1", threshold="48h")
    ctx.commit()
    assert first is not None and second is None and other is not None
    assert ctx.scalar(db.select(db.func.count(Notification.id))) == 2
    assert messaging.badge_counts(user)[0] == 2
