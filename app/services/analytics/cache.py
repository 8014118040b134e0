"""The analytics cache: a time to live per kind of entity, and invalidation when one changes.

An entry's key carries its kind's *generation*, a Redis counter that a change of that kind
bumps after commit: every entry of the kind is then missed at once, without scanning keys, and
the old ones expire by themselves. Redis away: the generation cannot be read, so the value is
computed from the database (the pages stay right, only slower); a bump that cannot be made is
logged and the TTL bounds how stale an entry can be.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core import jobs
from app.core.outbox import REDIS_ERRORS
from app.extensions import cache
from app.models import Alert, ExpertProfile, SlaClock
from app.realtime import notify

log = logging.getLogger(__name__)
T = TypeVar("T")

# seconds an entry may be served; a change of its kind ends it sooner
TTL = {
    "facts": 300,  # per-day facts and dossier counts: bumped by every event that moves them
    "experts": 120,  # capacity and availability
    "sla": 30,  # open alerts and clocks at risk: "at risk" moves with time, not only events
}
# which models' changes end which kinds (facts are bumped by their own listener)
INVALIDATED_BY = {ExpertProfile: "experts", Alert: "sla", SlaClock: "sla"}


def _generations(kinds) -> dict[str, int] | None:
    try:
        values = jobs.redis().mget([f"ft-gen:{k}" for k in kinds])
    except REDIS_ERRORS:
        return None
    return {k: int(v or 0) for k, v in zip(kinds, values, strict=True)}


def cached(kind: str, key: str, creator: Callable[[], T], depends: tuple[str, ...] = ()) -> T:
    """`creator()` cached under `key` for its kind's TTL, missed when `kind` (or a kind in
    `depends`) changes."""
    kinds = (kind, *depends)
    generations = _generations(kinds)
    if generations is None:
        return creator()
    stamp = ".".join(str(generations[k]) for k in kinds)
    return cache.get_or_create(f"an:{kind}:{stamp}:{key}", creator, expiration_time=TTL[kind])


def invalidate(*kinds: str) -> None:
    try:
        pipe = jobs.redis().pipeline(transaction=False)
        for kind in kinds:
            pipe.incr(f"ft-gen:{kind}")
        pipe.execute()
    except REDIS_ERRORS:
        log.warning("analytics cache: could not invalidate %s", kinds)


def facts_changed() -> None:
    """After a commit that moved the facts: new figures, and the admins' dashboards told. One
    signal per commit; the admins who refetch share one recomputation (the entry's lock)."""
    invalidate("facts")
    notify.to_admins("analytics:changed")


_KINDS = "analytics_invalidates"


@event.listens_for(Session, "after_flush")
def _note(session: Session, flush_context) -> None:
    kinds = {
        INVALIDATED_BY[type(obj)]
        for obj in (*session.new, *session.dirty, *session.deleted)
        if type(obj) in INVALIDATED_BY
    }
    if kinds:
        session.info.setdefault(_KINDS, set()).update(kinds)


@event.listens_for(Session, "after_commit")
def _bump(session: Session) -> None:
    kinds = session.info.pop(_KINDS, None)
    if kinds:
        invalidate(*sorted(kinds))


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_KINDS, None)
