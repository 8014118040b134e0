"""`make bench`: measurements of the running platform (bench/run.py lists them)."""

from functools import cache


@cache
def platform_app():
    """The platform's Flask app, built once for the whole run. One built per call (a cookie
    for each of 1 000 sockets) left the measuring client with a heap whose full garbage
    collections stopped it for 150-400 ms, in the middle of the latencies it was timing."""
    from app.factory import create_app

    return create_app()


def signed_session(user) -> str:
    """A signed session cookie value for `user`, as the login view would set it: a real,
    revocable login session row first (logging hundreds of users in through scrypt would only
    measure the password hash). Call inside the platform app's request context."""
    from flask import current_app

    from app.services.accounts import sessions

    sessions.open(user, "make bench")
    serializer = current_app.session_interface.get_signing_serializer(current_app)
    return serializer.dumps({"_user_id": user.get_id(), "_fresh": False})
