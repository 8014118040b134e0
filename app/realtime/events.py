"""Socket.IO handlers: registered everywhere, executed only in the process serving /socket.io."""

import logging

from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room, rooms

from app.core import metrics
from app.core.validators import parse_id
from app.extensions import socketio
from app.realtime import presence
from app.security import can_join_room
from app.services.messaging import access

log = logging.getLogger(__name__)


def _may_join(room: str) -> bool:
    """The policy's answer, with what it needs read first for a thread's room."""
    thread = None
    if room.startswith("thread:") and (thread_id := parse_id(room[7:])) is not None:
        thread = access.facts(thread_id)
    return can_join_room(current_user, room, thread)


@socketio.on("connect")
def on_connect(auth=None):
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("login required")
    join_room(f"user:{current_user.id}")
    # logging this browser out closes this room, and so this socket (app.realtime.manager)
    join_room(f"session:{current_user.login_session_id}")
    if current_user.is_admin:
        join_room("admins")
    # the pipeline (`lead:changed`) and the support queue (`ticket:changed`) refresh live
    for team in ("sales", "support"):
        if can_join_room(current_user, team):
            join_room(team)
    presence.seen(current_user.id, connected=True)
    metrics.SOCKETS.inc()


def _presence_changed(room: str) -> None:
    """Tell the others in a thread's room that this participant came or went."""
    thread_id = int(room[7:])
    data = {"event": "thread:presence", "thread_id": thread_id, "user_id": current_user.id}
    emit("notify", data, to=room, include_self=False)


@socketio.on("disconnect")
def on_disconnect(*_args):
    metrics.SOCKETS.dec()
    if current_user.is_authenticated and presence.left(current_user.id):
        for room in rooms():
            if room.startswith("thread:"):
                _presence_changed(room)


@socketio.on("presence")
def on_presence(_data=None):
    """The page's heartbeat (every 30 s): online means seen within the last 60 s."""
    if current_user.is_authenticated:
        presence.seen(current_user.id)
    return {"ok": True}


@socketio.on("typing")
def on_typing(data):
    """Someone is typing in a thread: the others in its room are told, at most every 3 s."""
    thread_id = (data or {}).get("thread_id") if isinstance(data, dict) else None
    if not isinstance(thread_id, int) or not current_user.is_authenticated:
        return {"ok": False}
    room = f"thread:{thread_id}"
    if not _may_join(room):
        return {"ok": False}
    if presence.typing_allowed(thread_id, current_user.id):
        emit(
            "notify",
            {"event": "thread:typing", "thread_id": thread_id, "user_id": current_user.id},
            to=room,
            include_self=False,
        )
    return {"ok": True}


@socketio.on("subscribe")
def on_subscribe(data):
    room = (data or {}).get("room") if isinstance(data, dict) else None
    if not isinstance(room, str) or not current_user.is_authenticated:
        return {"ok": False}
    if not _may_join(room):
        log.warning("refused subscribe", extra={"room": room, "user_id": current_user.id})
        return {"ok": False}
    join_room(room)
    if room.startswith("thread:"):
        _presence_changed(room)  # opening a thread shows you online to the others there
    return {"ok": True}


@socketio.on("unsubscribe")
def on_unsubscribe(data):
    room = (data or {}).get("room") if isinstance(data, dict) else None
    if isinstance(room, str):
        leave_room(room)
    return {"ok": True}


@socketio.on_error_default
def on_error(exc):
    log.exception("socket.io handler failed")
