"""Writing messages: a person's text and files, the platform's system messages for dossier
events; each reaches the other participants as a signal after commit (`message:new`)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.core.db import commit_keeping_loaded
from app.core.errors import ValidationFailed
from app.extensions import db
from app.models import (
    Dossier,
    Message,
    MessageAttachment,
    MessageKind,
    Thread,
    ThreadKind,
    ThreadParticipant,
    User,
    utcnow,
)
from app.realtime import notify
from app.security import can_read_thread, require
from app.services import sla
from app.services.dossiers import documents
from app.services.messaging import access
from app.services.messaging.threads import dossier_thread

MAX_LENGTH = 5000


MAX_ATTACHMENTS = 3


# The post's statements, built once on the tables (not the mapped classes): each execution
# skips building the statement, computing its cache key and the ORM's result handling.
_threads, _messages = Thread.__table__, Message.__table__
_JOIN = db.insert(ThreadParticipant.__table__)


_TOUCH = (
    db.update(_threads)
    .where(_threads.c.id == db.bindparam("thread_id"))
    .values(last_message_at=db.bindparam("at"))
)


_INSERT = db.insert(_messages).returning(_messages.c.id)


# PostgreSQL takes both in one statement (one round trip); SQLite has no UPDATE in a WITH
_TOUCH_AND_INSERT = (
    db.insert(_messages)
    .values(
        thread_id=db.bindparam("m_thread"),
        sender_id=db.bindparam("m_sender"),
        kind=db.bindparam("m_kind", type_=_messages.c.kind.type),
        body=db.bindparam("m_body"),
        created_at=db.bindparam("m_at"),
    )
    .returning(_messages.c.id)
    .add_cte(
        db.update(_threads)
        .where(_threads.c.id == db.bindparam("m_thread"))
        .values(last_message_at=db.bindparam("m_at"))
        .cte("touch")
    )
)


def insert_message(
    thread_id: int, sender_id: int | None, kind: MessageKind, body: str, at: datetime
) -> int:
    """Write a message and move its thread's `last_message_at`; returns the message's id."""
    if db.engine.dialect.name == "postgresql":
        both = {"m_thread": thread_id, "m_sender": sender_id, "m_kind": kind, "m_body": body}
        return db.session.execute(_TOUCH_AND_INSERT, {**both, "m_at": at}).scalar_one()
    db.session.execute(_TOUCH, {"thread_id": thread_id, "at": at})
    row = {"thread_id": thread_id, "sender_id": sender_id, "kind": kind, "body": body}
    return db.session.execute(_INSERT, {**row, "created_at": at}).scalar_one()


def post(thread_id: int, sender: User, body: str, files=()) -> Message:
    """Add a text message, with up to three files checked like dossier documents.

    The message leaves as a signal the moment it commits, so this path reads and writes with
    plain statements (one read, then the thread's UPDATE and the INSERT) instead of loading
    the thread's objects and flushing them: the unit of work cost more than the database did.

    :raises NotFound: not the sender's thread.
    :raises ValidationFailed: empty or longer than 5 000 characters, or a refused file; nothing
        is stored and the caller shows the text again.
    """
    target = access.facts(thread_id)
    require(target is not None and can_read_thread(sender, target))
    body = (body or "").strip()
    files = [f for f in files if f and f.filename]
    if not body and not files:
        message = _("Write a message before sending.")
        raise ValidationFailed(message, body=message)
    if len(body) > MAX_LENGTH:
        message = _("A message is %(n)d characters at most.", n=MAX_LENGTH)
        raise ValidationFailed(message, body=message)
    stored = documents.store_attachments("messages", files, MAX_ATTACHMENTS)
    now = utcnow()
    if sender.id not in target.participants:
        db.session.execute(_JOIN, {"thread_id": target.id, "user_id": sender.id})
    # No read-pointer write: unread counts never include your own messages, and what you saw
    # before posting is marked read by the page you come back to.
    message_id = insert_message(target.id, sender.id, MessageKind.TEXT, body, now)
    msg = Message(
        id=message_id,
        thread_id=target.id,
        sender_id=sender.id,
        kind=MessageKind.TEXT,
        body=body,
        created_at=now,
    )
    # the caller gets the stored message as if it had been loaded (its files load on access)
    make_transient_to_detached(msg)
    db.session.add(msg)
    if stored:
        db.session.execute(
            db.insert(MessageAttachment), [{"message_id": msg.id, **row} for row in stored]
        )
    # a Thread this session already holds did not see those statements
    loaded = db.session.identity_map.get(db.session.identity_key(Thread, target.id))
    if loaded is not None:
        db.session.expire(loaded, ["last_message_at", "participants"])
    if target.kind == ThreadKind.DOSSIER:  # a client's message waits for a reply (SLA)
        dossier = db.session.get(Dossier, int(target.key.split(":")[1]))
        if dossier is not None:
            sla.on_message(dossier, sender, now)
    _announce(target.id, target.kind, target.participants, msg.id, sender.id)
    # the caller links to the message and may render the thread: nothing to read back, and
    # the less this process does after the signal leaves, the sooner the realtime one runs
    commit_keeping_loaded()
    return msg


def system_message(dossier: Dossier, action: str) -> None:
    """A dossier event in the dossier thread, rendered in each reader's language (the body is
    the event's code). Part of the caller's transaction."""
    thread = dossier_thread(dossier)
    now = utcnow()
    message_id = insert_message(thread.id, None, MessageKind.SYSTEM, action, now)
    set_committed_value(thread, "last_message_at", now)  # what that statement wrote
    people = frozenset(row.user_id for row in thread.participants)
    _announce(thread.id, thread.kind, people, message_id, None)


def _announce(
    thread_id: int, kind: ThreadKind, people: frozenset[int], message_id: int, sender_id: int | None
) -> None:
    for user_id in people:
        if user_id != sender_id:
            notify.to_user(user_id, "message:new", thread_id=thread_id, message_id=message_id)
    if kind == ThreadKind.SUPPORT:
        notify.to_admins("message:new", thread_id=thread_id, message_id=message_id)
