"""The one emit API, used by services and jobs alike.

Signals carry an event name and ids, never HTML or personal data: the browser fetches the new
HTML through the same authorised views. Emits are published to the Redis message queue, so the
realtime process(es) deliver them whatever process emitted; and they leave only after the
database transaction commits, so a client never fetches state that is not there yet.
"""

from typing import Any

from flask import current_app

from app.core import metrics, outbox
from app.core.db import after_commit, after_commit_gathered
from app.realtime.manager import Publisher


def _publisher() -> Publisher:
    ext = current_app.extensions
    if "signal_publisher" not in ext:
        ext["signal_publisher"] = Publisher(
            current_app.config["REDIS_URL"],
            channel=current_app.config["SOCKETIO_CHANNEL"],
            write_only=True,
            redis_options={"socket_connect_timeout": current_app.config["REDIS_CONNECT_TIMEOUT"]},
        )
    return ext["signal_publisher"]


@outbox.replays("signal")
def _emit(payload: dict) -> None:
    _publisher().emit("notify", payload["data"], room=payload["rooms"], namespace="/")
    metrics.EMITTED.labels(payload["data"]["event"]).inc()


@outbox.replays("close_room")
def _close(payload: dict) -> None:
    _publisher().close_room(payload["room"], namespace="/")


def _send(kind: str, payload: dict) -> None:
    """Publish now; if Redis is away, the outbox sends it when it is back."""
    try:
        (_emit if kind == "signal" else _close)(payload)
    except outbox.REDIS_ERRORS as exc:
        outbox.record(kind, payload, exc)


class _Signals:
    """A transaction's signals: one publish per distinct signal, to all of its rooms at once
    (a transition tells the client, the expert and the admins with one Redis round trip, and
    someone in two of those rooms receives it once)."""

    def __init__(self) -> None:
        self.rooms: dict[str, tuple[dict, list[str]]] = {}

    def add(self, room: str, data: dict) -> None:
        rooms = self.rooms.setdefault(repr(data), (data, []))[1]
        if room not in rooms:
            rooms.append(room)

    def __call__(self) -> None:
        for data, rooms in self.rooms.values():
            _send("signal", {"data": data, "rooms": rooms})


def signal(room: str, event_name: str, /, **ids: Any) -> None:
    """Send `{"event": event_name, **ids}` to a room once the current transaction commits."""
    data = {"event": event_name, **ids}
    gathered = after_commit_gathered(_Signals)
    if gathered is None:  # no transaction: nothing to wait for
        _send("signal", {"data": data, "rooms": [room]})
    else:
        gathered.add(room, data)


def to_user(recipient_id: int, event_name: str, /, **ids: Any) -> None:
    signal(f"user:{recipient_id}", event_name, **ids)


def to_admins(event_name: str, /, **ids: Any) -> None:
    signal("admins", event_name, **ids)


def close_sockets_of(login_session_id: int) -> None:
    """Disconnect, in every realtime process, the sockets a login session opened (logout,
    password change): their room `session:<id>` is closed after commit, and closing such a
    room disconnects its members (`app.realtime.manager`)."""
    room = f"session:{login_session_id}"
    after_commit(lambda: _send("close_room", {"room": room}))
