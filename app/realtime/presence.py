"""Presence and typing throttles, kept in Redis so every realtime process shares them.

`presence:<user>` lives 60 s and is refreshed by the page's heartbeat: online means it
exists. `last_seen:<user>` keeps the time of the last heartbeat or disconnect.
`sockets:<user>` counts the user's open sockets, so closing the last tab is "offline" at once
while closing one of two is not; if a process dies without decrementing, the 60 s expiry of
`presence:<user>` still ends it.
"""

import functools
import logging
import time

from flask import current_app

from app.core.outbox import REDIS_ERRORS

log = logging.getLogger(__name__)
ONLINE_SECONDS = 60
TYPING_EVERY_SECONDS = 3


def _redis():
    return current_app.extensions["redis"]


def _fail_open(default):
    """Presence is a nicety: while Redis is away, everyone shows offline and typing is quiet,
    and the page or socket event that asked goes on."""

    def wrap(fn):
        @functools.wraps(fn)
        def guarded(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except REDIS_ERRORS:
                log.warning("presence unavailable", extra={"call": fn.__name__})
                return default(*args) if callable(default) else default

        return guarded

    return wrap


@_fail_open(None)
def seen(user_id: int, *, connected: bool = False) -> None:
    now = int(time.time())
    pipe = _redis().pipeline()
    pipe.set(f"presence:{user_id}", now, ex=ONLINE_SECONDS)
    pipe.set(f"last_seen:{user_id}", now)
    if connected:
        pipe.incr(f"sockets:{user_id}")
    pipe.expire(f"sockets:{user_id}", 2 * ONLINE_SECONDS)
    pipe.execute()


@_fail_open(True)
def left(user_id: int) -> bool:
    """A socket closed; True when it was the user's last one (they are now offline)."""
    pipe = _redis().pipeline()
    pipe.set(f"last_seen:{user_id}", int(time.time()))
    pipe.decr(f"sockets:{user_id}")
    remaining = pipe.execute()[1]
    if remaining > 0:
        return False
    _redis().delete(f"presence:{user_id}", f"sockets:{user_id}")
    return True


@_fail_open(False)
def typing_allowed(thread_id: int, user_id: int) -> bool:
    """One typing signal per user and thread every 3 s, whatever the browser sends."""
    key = f"typing:{thread_id}:{user_id}"
    return bool(_redis().set(key, 1, nx=True, ex=TYPING_EVERY_SECONDS))


@_fail_open(lambda user_ids: {uid: (False, None) for uid in user_ids})
def status(user_ids: list[int]) -> dict[int, tuple[bool, int | None]]:
    """user id -> (online now, last seen as a unix time or None)."""
    if not user_ids:
        return {}
    pipe = _redis().pipeline()
    for uid in user_ids:
        pipe.exists(f"presence:{uid}")
        pipe.get(f"last_seen:{uid}")
    values = pipe.execute()
    found = {}
    for i, uid in enumerate(user_ids):
        online, last = values[2 * i], values[2 * i + 1]
        found[uid] = (bool(online), int(last) if last else None)
    return found
