"""Read by every gunicorn of the Procfiles (gunicorn loads ./gunicorn.conf.py by default); the
command lines keep the binding, worker class and counts."""


def child_exit(_server, worker):
    # a dead worker's live gauges (connected sockets) stop counting in /metrics
    from app.core import metrics

    metrics.process_exited(worker.pid)
