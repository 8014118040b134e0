"""A bare python-socketio echo server: the floor for the live-delivery measurement, served by
the same gunicorn gevent worker as the realtime process (`--chdir bench echo:app`)."""

import socketio

sio = socketio.Server(async_mode="gevent", cors_allowed_origins=[])


@sio.on("echo")
def echo(sid, data):
    sio.emit("echo", data, to=sid)


app = socketio.WSGIApp(sio)
