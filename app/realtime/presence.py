"""Presence and typing throttles, kept in Redis so every realtime process shares them.

`presence:<user>` lives 60 s and is refreshed by the page's heartbeat: online means it
exists. `last_seen:<user>` keeps the time of the last heartbeat or disconnect.
"""

import time

from flask import current_app

ONLINE_SECONDS = 60
TYPING_EVERY_SECONDS = 3


def _redis():
    return current_app.extensions["redis"]


def seen(user_id: int) -> None:
    now = int(time.time())
    pipe = _redis().pipeline()
    pipe.set(f"presence:{user_id}", now, ex=ONLINE_SECONDS)
    pipe.set(f"last_seen:{user_id}", now)
    pipe.execute()


def left(user_id: int) -> None:
    _redis().set(f"last_seen:{user_id}", int(time.time()))


def typing_allowed(thread_id: int, user_id: int) -> bool:
    """One typing signal per user and thread every 3 s, whatever the browser sends."""
    key = f"typing:{thread_id}:{user_id}"
    return bool(_redis().set(key, 1, nx=True, ex=TYPING_EVERY_SECONDS))


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
