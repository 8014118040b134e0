"""Push jobs: thin wrappers, the service does the work."""

from app.services.notifications import push


def deliver(delivery_id: int) -> bool:
    return push.deliver(delivery_id)
