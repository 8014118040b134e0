"""Socket.IO handlers: registered everywhere, executed only in the process serving /socket.io."""

import logging

from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room, leave_room

from app.extensions import socketio
from app.security import can_join_room

log = logging.getLogger(__name__)


@socketio.on("connect")
def on_connect(auth=None):
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("login required")
    join_room(f"user:{current_user.id}")
    if current_user.is_admin:
        join_room("admins")


@socketio.on("subscribe")
def on_subscribe(data):
    room = (data or {}).get("room") if isinstance(data, dict) else None
    if not isinstance(room, str) or not current_user.is_authenticated:
        return {"ok": False}
    if not can_join_room(current_user, room):
        log.warning("refused subscribe", extra={"room": room, "user_id": current_user.id})
        return {"ok": False}
    join_room(room)
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
