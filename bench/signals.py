"""The job `make bench` runs in a real RQ worker: signals through the one emit API."""

import time

from app.realtime.notify import to_user


def emit_pings(user_ids: list[int], rounds: int, spacing: float = 0.002) -> None:
    """One `bench:ping` per user per round, spaced so this measures delivery, not a burst."""
    for seq in range(rounds):
        for user_id in user_ids:
            to_user(user_id, "bench:ping", seq=seq, sent=time.time())
            time.sleep(spacing)
