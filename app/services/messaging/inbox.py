"""A person's list of threads with their unread counts, the header's unread badge, and the
admins' support inbox."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func

from app.extensions import db
from app.models import (
    Message,
    MessageKind,
    Thread,
    ThreadKind,
    ThreadParticipant,
    User,
)
from app.services import notifications


@dataclass
class ThreadRow:
    thread: Thread
    last: Message | None
    unread: int
    pinned: bool


def threads_for(user: User, limit: int = 50) -> list[ThreadRow]:
    """The user's threads, support first, then the most recent; each with its last message
    and unread count. Threads without messages are hidden, except support."""
    mine = db.select(ThreadParticipant).where(ThreadParticipant.user_id == user.id).subquery()
    unread = (
        db.select(func.count(Message.id))
        .where(
            Message.thread_id == Thread.id,
            Message.id > func.coalesce(mine.c.last_read_message_id, 0),
            func.coalesce(Message.sender_id, 0) != user.id,
        )
        .correlate(Thread, mine)
        .scalar_subquery()
    )
    rows = db.session.execute(
        db.select(Thread, unread)
        .join(mine, mine.c.thread_id == Thread.id)
        .where(db.or_(Thread.last_message_at.is_not(None), Thread.kind == ThreadKind.SUPPORT))
        .order_by((Thread.kind != ThreadKind.SUPPORT), Thread.last_message_at.desc())
        .limit(limit)
    ).all()
    lasts = {}
    ids = [t.id for t, _n in rows]
    if ids:
        latest = (
            db.select(func.max(Message.id))
            .where(Message.thread_id.in_(ids))
            .group_by(Message.thread_id)
        )
        for msg in db.session.scalars(
            db.select(Message).where(Message.id.in_(latest)).options(db.joinedload(Message.sender))
        ):
            lasts[msg.thread_id] = msg
    return [ThreadRow(t, lasts.get(t.id), n, t.kind == ThreadKind.SUPPORT) for t, n in rows]


def unread_query(user: User):
    """The count of messages from others newer than what the user has read, across their
    threads (the header badge): one query on the participant rows and the (thread, id)
    index."""
    return (
        db.select(func.count(Message.id))
        .join(ThreadParticipant, ThreadParticipant.thread_id == Message.thread_id)
        .where(
            ThreadParticipant.user_id == user.id,
            Message.id > func.coalesce(ThreadParticipant.last_read_message_id, 0),
            func.coalesce(Message.sender_id, 0) != user.id,
            Message.kind == MessageKind.TEXT,
        )
    )


def badge_counts(user: User) -> tuple[int, int]:
    """(unread notifications, unread messages): the header's badges, in one round trip.
    Here rather than in notifications, which knows no feature."""

    both = db.select(
        notifications.unread_query(user).scalar_subquery(), unread_query(user).scalar_subquery()
    )
    notes, messages = db.session.execute(both).one()
    return notes or 0, messages or 0


def support_threads_for_admins(limit: int = 50) -> list[Thread]:
    return list(
        db.session.scalars(
            db.select(Thread)
            .where(Thread.kind == ThreadKind.SUPPORT, Thread.last_message_at.is_not(None))
            .order_by(Thread.last_message_at.desc())
            .limit(limit)
        )
    )
