"""Real time: Socket.IO server wiring. Signals are published by app.realtime.notify."""

from flask import Flask

from app.extensions import socketio
from app.realtime import events  # noqa: F401  (registers the handlers)
from app.realtime.manager import Manager


def init_app(app: Flask) -> None:
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        client_manager=Manager(app.config["REDIS_URL"], channel=app.config["SOCKETIO_CHANNEL"]),
        # same-origin only (the default); say it, so nobody "fixes" it with "*"
        cors_allowed_origins=None,
        # the cookie session is read at connect; nothing writes to it from a socket
        manage_session=False,
    )
