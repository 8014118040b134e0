"""`make bench`: measurements of the running platform (bench/run.py lists them)."""

from functools import cache


@cache
def platform_app():
    """The platform's Flask app, built once for the whole run. One built per call (a cookie
    for each of 1 000 sockets) left the measuring client with a heap whose full garbage
    collections stopped it for 150-400 ms, in the middle of the latencies it was timing."""
    from app import create_app

    return create_app()
