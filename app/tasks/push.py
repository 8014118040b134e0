"""Push jobs: thin wrappers, the service does the work."""

from app.services import push


def deliver(notification_id: int) -> int:
    return push.deliver(notification_id)
