"""Provider events: taken in by the webhook endpoint, applied by a worker, each exactly once.

The endpoint does the least it can (the provider waits on it): check the signature on the raw
body, store the body as received, queue the job, answer. The job claims the row with a
conditional UPDATE in the same transaction as the event's effects, so of two workers handed the
same event, the second finds it already processed (PostgreSQL re-reads the row after the first
commits; SQLite lets one writer in at a time)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from rq import Retry
from sqlalchemy.dialects import postgresql, sqlite

from app.core.jobs import enqueue
from app.extensions import db
from app.models import EventStatus, Priority, ProviderEvent, utcnow
from app.services import notifications

log = logging.getLogger(__name__)


class Rejected(Exception):
    """A delivery we refuse (400): forged, altered, stale or replayed."""


class NotYet(Exception):
    """The event is about an object whose row is still being committed: try again shortly."""


# an event about an object we do not know yet may be racing the checkout that creates it
MATCH_GRACE = timedelta(seconds=60)


def _insert():
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(ProviderEvent).on_conflict_do_nothing(
        index_elements=["provider", "event_id"]
    )


def store(values: dict) -> int | None:
    """Insert a provider event unless (provider, event id) is already there: the new row's id,
    or None for a second delivery (one statement, so concurrent deliveries cannot both win)."""
    return db.session.scalar(_insert().values(**values).returning(ProviderEvent.id))


def take_in(provider: str, event: dict, raw: bytes, signed_at: int) -> str:
    """Store a verified event and queue its processing. Returns "queued" or "duplicate";
    raises Rejected for a replay of a delivery already taken (same or older signature)."""
    values = dict(
        provider=provider,
        event_id=str(event.get("id") or ""),
        type=str(event.get("type") or "")[:80],
        payload=raw.decode("utf-8"),
        object_ref=_object_id(event),
        signed_at=signed_at,
        received_at=utcnow(),
    )
    if not values["event_id"] or not values["type"]:
        raise Rejected("no event id or type")
    new_id = store(values)
    if new_id is None:
        # Known event. The provider signs each retry anew, so a later signature is a real
        # redelivery (answered 200, applied once); the same or an older one is a replay
        bumped = db.session.execute(
            db.update(ProviderEvent)
            .where(
                ProviderEvent.provider == provider,
                ProviderEvent.event_id == values["event_id"],
                ProviderEvent.signed_at < signed_at,
            )
            .values(signed_at=signed_at)
        ).rowcount
        db.session.commit()
        if not bumped:
            raise Rejected("replayed delivery")
        return "duplicate"
    db.session.commit()
    _queue(new_id)
    return "queued"


def _queue(event_pk: int) -> None:
    enqueue(
        "high",
        "app.services.payments.jobs.process_event",
        event_pk,
        retry=Retry(max=5, interval=[5, 30, 120, 600, 3600]),
    )


def _object_id(event: dict) -> str | None:
    obj = (event.get("data") or {}).get("object") or {}
    ref = obj.get("id") if isinstance(obj, dict) else None
    return str(ref)[:255] if ref else None


def process(event_pk: int, handlers: dict) -> str:
    """Apply one stored event with `handlers[type](event, row) -> EventStatus`. Returns the
    outcome; "skipped" when another worker already did it."""
    claimed = db.session.execute(
        db.update(ProviderEvent)
        .where(
            ProviderEvent.id == event_pk,
            ProviderEvent.status.in_((EventStatus.RECEIVED, EventStatus.FAILED)),
        )
        .values(attempts=ProviderEvent.attempts + 1)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return "skipped"
    row = db.session.get(ProviderEvent, event_pk)
    event = json.loads(row.payload)
    handler = handlers.get(row.type)
    try:
        status = handler(event, row) if handler else EventStatus.PROCESSED
    except NotYet:
        db.session.rollback()
        if utcnow() - row.received_at < MATCH_GRACE:
            _mark(event_pk, EventStatus.FAILED, "object not found yet")
            raise
        status = EventStatus.UNMATCHED
        row = db.session.get(ProviderEvent, event_pk)
    except Exception as exc:
        db.session.rollback()
        _mark(event_pk, EventStatus.FAILED, repr(exc)[:2000])
        raise
    row.status, row.processed_at = status, utcnow()
    if status in (EventStatus.UNMATCHED, EventStatus.REFUSED):
        flag(row, status)
    db.session.commit()
    return str(status)


def _mark(event_pk: int, status: EventStatus, error: str) -> None:
    db.session.execute(
        db.update(ProviderEvent)
        .where(ProviderEvent.id == event_pk)
        .values(status=status, error=error)
    )
    db.session.commit()


def flag(row: ProviderEvent, status: EventStatus) -> None:
    title = (
        _l("A payment event matches nothing we know")
        if status == EventStatus.UNMATCHED
        else _l("A payment was refused: its amount or currency does not match")
    )
    notifications.notify_admins(
        "payment_event_flagged",
        title,
        body=_l(
            "%(provider)s event %(id)s (%(type)s): check it in the payment events.",
            provider=row.provider,
            id=row.event_id,
            type=row.type,
        ),
        priority=Priority.HIGH,
        object_ref=f"provider_event:{row.id}",
    )
    if row.error is None and status == EventStatus.UNMATCHED:
        row.error = "no matching object"
