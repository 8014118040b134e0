"""Reading a thread: its pages of messages (rows, not objects), read marks and "seen", and the
files attached to its messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import func

from app.core.db import commit_keeping_loaded
from app.extensions import db
from app.models import (
    Message,
    MessageAttachment,
    MessageKind,
    Thread,
    User,
)
from app.models.user import full_name
from app.realtime import notify
from app.security import can_read_thread, require
from app.services.messaging import access
from app.services.messaging.threads import join

PAGE = 30


@dataclass(frozen=True, slots=True)
class File:
    id: int
    original_name: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class Item:
    """A message as a thread shows it: its columns, its sender's name (None: the platform, or
    an account since deleted) and its files. Rows, not objects: a page of thirty messages
    built as objects, each with its sender, cost more than the queries did."""

    id: int
    kind: MessageKind
    body: str
    created_at: datetime
    sender_id: int | None
    sender_name: str | None
    attachments: tuple[File, ...]


@lru_cache(maxsize=8)
def _items_statement(*, newest_first: bool, before: bool, skip_sender: bool, limit: int):
    """A thread's messages after (or before) a bound id, with their senders' names and their
    files, in one statement per shape: the page of messages first, then its joins (a message
    with two files is two rows)."""
    messages, users = Message.__table__, User.__table__
    files = MessageAttachment.__table__
    page = db.select(messages).where(messages.c.thread_id == db.bindparam("thread_id"))
    if before:
        page = page.where(messages.c.id < db.bindparam("before_id"))
    else:
        page = page.where(messages.c.id > db.bindparam("after_id"))
    if skip_sender:
        page = page.where(func.coalesce(messages.c.sender_id, 0) != db.bindparam("skip_sender"))
    order = messages.c.id.desc() if newest_first else messages.c.id
    page = page.order_by(order).limit(limit).subquery()
    return (
        db.select(
            page.c.id,
            page.c.kind,
            page.c.body,
            page.c.created_at,
            page.c.sender_id,
            users.c.first_name,
            users.c.last_name,
            files.c.id,
            files.c.original_name,
            files.c.size_bytes,
        )
        .select_from(page)
        .outerjoin(users, users.c.id == page.c.sender_id)
        .outerjoin(files, files.c.message_id == page.c.id)
        .order_by(page.c.id.desc() if newest_first else page.c.id, files.c.id)
    )


def _items(statement, params: dict) -> list[Item]:
    heads: dict[int, tuple] = {}  # in the statement's order
    files: dict[int, list[File]] = {}
    for row in db.session.execute(statement, params):
        message_id = row[0]
        if message_id not in heads:
            name = full_name(row[5], row[6]) if row[5] is not None else None
            heads[message_id] = (*row[:5], name)
            files[message_id] = []
        if row[7] is not None:
            files[message_id].append(File(row[7], row[8], row[9]))
    return [Item(*head, tuple(files[message_id])) for message_id, head in heads.items()]


def history(thread: Thread, before_id: int | None = None, limit: int = PAGE):
    """The latest `limit` messages before `before_id`, oldest first, and whether older ones
    exist (keyset on the id)."""
    statement = _items_statement(
        newest_first=True, before=bool(before_id), skip_sender=False, limit=limit + 1
    )
    params = {"thread_id": thread.id, "before_id": before_id, "after_id": 0}
    rows = _items(statement, params)
    return list(reversed(rows[:limit])), len(rows) > limit


def newer(
    thread: Thread, after_id: int, limit: int = 100, skip_sender: int | None = None
) -> list[Item]:
    """Messages after `after_id`. A live refresh skips the reader's own: the page that sent
    them has already shown them, and a refresh racing that answer would show them twice."""
    statement = _items_statement(
        newest_first=False, before=False, skip_sender=skip_sender is not None, limit=limit
    )
    params = {"thread_id": thread.id, "after_id": after_id, "skip_sender": skip_sender}
    return _items(statement, params)


def mark_read(thread: Thread, user: User, seen: list[Item]) -> None:
    """The reader now has `seen` (oldest first) on screen, so everything up to its last
    message is read. Marks only move forward. The others get a "read" signal (for "seen")
    only if one of their messages may have been passed; your own never need it."""
    if not seen:
        return
    row = next((p for p in thread.participants if p.user_id == user.id), None)
    joined = row is None
    row = row or join(thread, user.id)
    old = row.last_read_message_id or 0
    if seen[-1].id <= old and not joined:
        return
    row.last_read_message_id = max(old, seen[-1].id)
    # older unread messages above the page are not in `seen`: assume one is theirs
    passed_theirs = old < seen[0].id or any(m.id > old and m.sender_id != user.id for m in seen)
    if passed_theirs and seen[-1].id > old:
        for other in thread.participants:
            if other.user_id != user.id:
                notify.to_user(other.user_id, "message:read", thread_id=thread.id)
    commit_keeping_loaded()  # the caller goes on to render the messages it loaded


def seen_by_others(thread: Thread, user: User) -> int | None:
    """The newest message every other participant has read (for "seen"), from the
    participant rows loaded with the thread."""
    marks = [
        p.last_read_message_id
        for p in thread.participants
        if p.user_id != user.id and p.last_read_message_id is not None
    ]
    return min(marks, default=None)


def attachment_for(attachment_id: int, viewer: User) -> MessageAttachment:
    """A file of a message in a thread the viewer may read (404 otherwise)."""
    attachment = db.session.get(MessageAttachment, attachment_id)
    thread = None
    if attachment is not None:
        msg = db.session.get(Message, attachment.message_id)
        thread = access.facts(msg.thread_id) if msg else None
    require(thread is not None and can_read_thread(viewer, thread))
    return attachment
