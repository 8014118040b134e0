"""The outbox: what could not be handed to Redis is kept in the database and sent when it is back.

Redis carries the job queues and the realtime message queue, but it is a helper, not the source
of truth: a committed transition must not be reported as a failure because its announcement
job or its signal could not leave. So a publish or an enqueue that fails is `record`ed here,
and `flush` (a job the cron process enqueues every few seconds, run by a worker) sends the
entries in order once Redis answers again. Each entry is deleted in the transaction that sent
it, under a row lock other flushers skip, so nothing is sent twice; jobs keep their unique ids,
so an entry sent just before a crash is a duplicate RQ refuses.

The senders register how to replay their kind (`replays`): this module knows no sender.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis.exceptions

from app.extensions import db
from app.models import OutboxEntry, utcnow

log = logging.getLogger(__name__)

# what "Redis is not there" looks like from redis-py (refused, reset, timed out, read-only
# replica after a failover)
REDIS_ERRORS = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,
    ConnectionRefusedError,
)

_REPLAY: dict[str, Callable[[dict[str, Any]], None]] = {}


def replays(kind: str):
    """Register how an entry of `kind` is sent again (the function that failed, minus the
    outbox)."""

    def register(fn: Callable[[dict[str, Any]], None]):
        _REPLAY[kind] = fn
        return fn

    return register


def record(kind: str, payload: dict[str, Any], error: BaseException | None = None) -> None:
    """Keep a side effect for later. Inside an open transaction it is part of it (it happens
    only if the work does); otherwise (after commit, in a job) it is written on its own."""
    values = {
        "kind": kind,
        "payload": payload,
        "last_error": repr(error)[:300] if error else None,
    }
    log.warning("redis unavailable, kept in the outbox", extra={"kind": kind})
    session = db.session()
    if session.in_transaction() and not session.info.get("after_commit_running"):
        session.add(OutboxEntry(**values))
        return
    with db.engine.begin() as conn:
        conn.execute(db.insert(OutboxEntry).values(created_at=utcnow(), attempts=0, **values))


def pending() -> int:
    return db.session.scalar(db.select(db.func.count(OutboxEntry.id)))


def flush(limit: int = 500) -> int:
    """Send what is waiting, oldest first; returns how many were sent. Stops at the first
    entry Redis still refuses (it is down: the rest would fail too)."""
    sent = 0
    while sent < limit:
        query = db.select(OutboxEntry).order_by(OutboxEntry.id).limit(1)
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        entry = db.session.scalar(query)
        if entry is None:
            db.session.rollback()
            break
        replay = _REPLAY.get(entry.kind)
        if replay is None:  # a kind this version no longer sends: keep it, say so
            log.error("outbox entry of unknown kind", extra={"kind": entry.kind, "id": entry.id})
            db.session.rollback()
            break
        try:
            replay(entry.payload)
        except REDIS_ERRORS as exc:
            entry.attempts += 1
            entry.last_error = repr(exc)[:300]
            db.session.commit()
            break
        db.session.delete(entry)
        db.session.commit()
        sent += 1
    if sent:
        log.info("outbox flushed", extra={"sent": sent})
    return sent
