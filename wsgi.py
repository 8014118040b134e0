"""WSGI entry points.

`wsgi:app`      web process (gthread): pages and fragments.
`wsgi:realtime` realtime process (gevent): serves /socket.io/ with its async mode set explicitly.
Both are the same application; only the Socket.IO async mode differs, so each is built lazily
and a process never builds the one it does not serve.
"""

import gc
import os


def __getattr__(name: str):
    from app.factory import create_app

    if name == "app":
        mode = os.environ.get("SOCKETIO_ASYNC_MODE", "threading")
    elif name == "realtime":
        mode = os.environ.get("REALTIME_ASYNC_MODE", "gevent")
    else:
        raise AttributeError(name)
    application = create_app(SOCKETIO_ASYNC_MODE=mode)
    # Everything built so far lives as long as the process: moving it out of the collector's
    # reach makes the full collections that stall a request now and then much shorter.
    gc.freeze()
    globals()[name] = application
    return application
