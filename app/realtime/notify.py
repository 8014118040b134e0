"""The one emit API, used by services and jobs alike.

Signals carry an event name and ids, never HTML or personal data: the browser fetches the new
HTML through the same authorised views. Emits are published to the Redis message queue, so the
realtime process(es) deliver them whatever process emitted; and they leave only after the
database transaction commits, so a client never fetches state that is not there yet.
"""

from typing import Any

import socketio
from flask import current_app

from app.services.transaction import after_commit


def _publisher() -> socketio.RedisManager:
    ext = current_app.extensions
    if "signal_publisher" not in ext:
        ext["signal_publisher"] = socketio.RedisManager(
            current_app.config["REDIS_URL"],
            channel=current_app.config["SOCKETIO_CHANNEL"],
            write_only=True,
        )
    return ext["signal_publisher"]


def signal(room: str, event_name: str, /, **ids: Any) -> None:
    """Send `{"event": event_name, **ids}` to a room once the current transaction commits."""
    data = {"event": event_name, **ids}
    after_commit(lambda: _publisher().emit("notify", data, room=room, namespace="/"))


def to_user(recipient_id: int, event_name: str, /, **ids: Any) -> None:
    signal(f"user:{recipient_id}", event_name, **ids)


def to_admins(event_name: str, /, **ids: Any) -> None:
    signal("admins", event_name, **ids)
