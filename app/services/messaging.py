"""Conversations (DOMAIN A6, B §5): who may talk to whom, threads, messages, reads.

A dossier has one thread (its client, its expert, the admins); every user has one support
thread with the admins. Participants are rows, each with the last message they have read, so
unread counts are one query. New messages reach the other participants as a signal after
commit (`message:new`); their pages fetch the HTML through the same authorised views.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.core import storage
from app.core.db import commit_keeping_loaded
from app.core.errors import ValidationFailed
from app.extensions import db
from app.models import (
    Dossier,
    Message,
    MessageAttachment,
    MessageKind,
    Role,
    Thread,
    ThreadKind,
    ThreadParticipant,
    User,
    utcnow,
)
from app.models.user import full_name
from app.realtime import notify, presence
from app.security import can_read_thread, require
from app.services import audit, documents, emails, preferences

MAX_LENGTH = 5000
PAGE = 30


# -- who may talk to whom (B §5) -----------------------------------------------------------------


def may_contact(sender: User, recipient: User) -> bool:
    """The contact rules (B §5): admins reach anyone and everyone reaches the admins; clients
    and experts reach each other through a dossier they share; a referrer and a client reach
    each other when the client came through the referrer's link; a referrer never reaches an
    expert."""
    if not (sender.active and recipient.active) or sender.id == recipient.id:
        return False
    if sender.is_admin or recipient.is_admin:
        return True
    roles = {sender.role, recipient.role}
    if roles == {Role.APPORTEUR, Role.CLIENT}:
        client, referrer = (
            (sender, recipient) if sender.role == Role.CLIENT else (recipient, sender)
        )
        return (
            client.client_profile is not None and client.client_profile.apporteur_id == referrer.id
        )
    if Role.APPORTEUR in roles:
        return False
    if roles == {Role.CLIENT, Role.EXPERT}:
        client, expert = (sender, recipient) if sender.role == Role.CLIENT else (recipient, sender)
        shared = db.select(Dossier.id).where(
            Dossier.client_id == client.id, Dossier.expert_id == expert.id
        )
        return db.session.scalar(shared.limit(1)) is not None
    return False


# -- threads -------------------------------------------------------------------------------------


def _by_key(key: str) -> Thread | None:
    """The thread and its participants, in one round trip (every caller joins it next)."""
    query = db.select(Thread).where(Thread.key == key).options(db.joinedload(Thread.participants))
    return db.session.execute(query).unique().scalar_one_or_none()


def _get_or_create(key: str, **fields) -> Thread:
    thread = _by_key(key)
    if thread is not None:
        return thread
    try:
        with db.session.begin_nested():  # a concurrent twin loses on the unique key
            thread = Thread(key=key, participants=[], **fields)  # new: nobody to load
            db.session.add(thread)
    except IntegrityError:
        thread = _by_key(key)
    return thread


def _load(thread_id: int) -> Thread | None:
    """A thread with what the access check and its page read (its dossier, its participants
    and who they are), in one round trip."""
    return db.session.get(
        Thread,
        thread_id,
        options=[
            # only the two ids the check reads (not the whole row, nor its product)
            db.joinedload(Thread.dossier).options(
                db.load_only(Dossier.client_id, Dossier.expert_id), db.lazyload(Dossier.product)
            ),
            db.joinedload(Thread.participants).joinedload(ThreadParticipant.user),
        ],
    )


def _join(thread: Thread, user_id: int) -> ThreadParticipant:
    row = next((p for p in thread.participants if p.user_id == user_id), None)
    if row is None:  # written with the caller's next flush, with any other new ones at once
        row = ThreadParticipant(user_id=user_id)
        thread.participants.append(row)
    return row


def dossier_thread(dossier: Dossier) -> Thread:
    thread = _get_or_create(
        f"dossier:{dossier.id}",
        kind=ThreadKind.DOSSIER,
        dossier_id=dossier.id,
        title=dossier.product.name,
    )
    _join(thread, dossier.client_id)
    if dossier.expert_id is not None:
        _join(thread, dossier.expert_id)
    return thread


def support_thread(user: User) -> Thread:
    thread = _get_or_create(f"support:{user.id}", kind=ThreadKind.SUPPORT, title="")
    _join(thread, user.id)
    return thread


def open_referral_thread(viewer: User, other_id: int) -> Thread:
    """The thread between a referrer and one of their clients, opened by either (404 for
    anyone else: the contact rules decide)."""
    other = db.session.get(User, other_id)
    require(
        other is not None
        and Role.APPORTEUR in (viewer.role, other.role)
        and may_contact(viewer, other)
    )
    referrer, client = (viewer, other) if viewer.role == Role.APPORTEUR else (other, viewer)
    thread = _get_or_create(
        f"referral:{referrer.id}:{client.id}", kind=ThreadKind.REFERRAL, title=""
    )
    _join(thread, referrer.id)
    _join(thread, client.id)
    db.session.commit()
    return thread


def open_dossier_thread(dossier_id: int, viewer: User) -> Thread:
    dossier = db.session.get(Dossier, dossier_id)
    # the thread's own rule, asked before it exists: seeing a dossier (a firm's runner, the
    # expert asked to accept it) is not reading its conversation, and nothing is created for
    # someone who would then get a 404
    require(dossier is not None and can_read_thread(viewer, _would_be_thread(dossier)))
    thread = dossier_thread(dossier)
    db.session.commit()
    return thread


def _would_be_thread(dossier: Dossier) -> SimpleNamespace:
    """What `can_read_thread` reads of a dossier's thread, for one that may not exist yet."""
    parties = tuple(i for i in (dossier.client_id, dossier.expert_id) if i is not None)
    key = f"dossier:{dossier.id}"
    return SimpleNamespace(id=None, kind=ThreadKind.DOSSIER, key=key, parties=parties)


def open_support_thread(user: User) -> Thread:
    thread = support_thread(user)
    db.session.commit()
    return thread


def get_thread(thread_id: int, user: User, ip: str | None = None) -> Thread:
    """A thread the user may read (404 otherwise). An admin reading a thread they are not
    part of is audited."""
    thread = _load(thread_id)
    require(thread is not None and can_read_thread(user, thread))
    changed = False
    if user.is_admin and thread.kind != ThreadKind.SUPPORT:
        audit.record(user, "thread.read", "thread", thread.id, ip)
        changed = True
    if not any(p.user_id == user.id for p in thread.participants):
        _join(thread, user.id)
        changed = True
    if changed:
        commit_keeping_loaded()
    return thread


# -- messages ------------------------------------------------------------------------------------


MAX_ATTACHMENTS = 3


@dataclass(frozen=True, slots=True)
class _Target:
    """What a post needs of its thread: the access check's facts (`can_read_thread` reads
    `id`, `kind`, `key` and `parties`) and who is in it."""

    id: int
    kind: ThreadKind
    key: str
    parties: tuple[int, ...]
    participants: frozenset[int]


# The post's statements, built once on the tables (not the mapped classes): each execution
# skips building the statement, computing its cache key and the ORM's result handling.
_threads, _messages = Thread.__table__, Message.__table__
# one row per participant (one row with no participant for a thread nobody has joined yet)
_TARGET = (
    db.select(
        _threads.c.kind,
        _threads.c.key,
        Dossier.__table__.c.client_id,
        Dossier.__table__.c.expert_id,
        ThreadParticipant.__table__.c.user_id,
    )
    .select_from(_threads)
    .outerjoin(Dossier.__table__, Dossier.__table__.c.id == _threads.c.dossier_id)
    .outerjoin(
        ThreadParticipant.__table__, ThreadParticipant.__table__.c.thread_id == _threads.c.id
    )
    .where(_threads.c.id == db.bindparam("thread_id"))
)
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


def _insert_message(
    thread_id: int, sender_id: int | None, kind: MessageKind, body: str, at: datetime
) -> int:
    """Write a message and move its thread's `last_message_at`; returns the message's id."""
    if db.engine.dialect.name == "postgresql":
        both = {"m_thread": thread_id, "m_sender": sender_id, "m_kind": kind, "m_body": body}
        return db.session.execute(_TOUCH_AND_INSERT, {**both, "m_at": at}).scalar_one()
    db.session.execute(_TOUCH, {"thread_id": thread_id, "at": at})
    row = {"thread_id": thread_id, "sender_id": sender_id, "kind": kind, "body": body}
    return db.session.execute(_INSERT, {**row, "created_at": at}).scalar_one()


def _target(thread_id: int) -> _Target | None:
    rows = db.session.execute(_TARGET, {"thread_id": thread_id}).all()
    if not rows:
        return None
    kind, key, client_id, expert_id, _user = rows[0]
    return _Target(
        id=thread_id,
        kind=kind,
        key=key,
        parties=tuple(i for i in (client_id, expert_id) if i is not None),
        participants=frozenset(row.user_id for row in rows if row.user_id is not None),
    )


def post(thread_id: int, sender: User, body: str, files=()) -> Message:
    """Add a text message, with up to three files checked like dossier documents.

    The message leaves as a signal the moment it commits, so this path reads and writes with
    plain statements (one read, then the thread's UPDATE and the INSERT) instead of loading
    the thread's objects and flushing them: the unit of work cost more than the database did.

    :raises NotFound: not the sender's thread.
    :raises ValidationFailed: empty or longer than 5 000 characters, or a refused file; nothing
        is stored and the caller shows the text again.
    """
    target = _target(thread_id)
    require(target is not None and can_read_thread(sender, target))
    body = (body or "").strip()
    files = [f for f in files if f and f.filename]
    if not body and not files:
        message = _("Write a message before sending.")
        raise ValidationFailed(message, body=message)
    if len(body) > MAX_LENGTH:
        message = _("A message is %(n)d characters at most.", n=MAX_LENGTH)
        raise ValidationFailed(message, body=message)
    if len(files) > MAX_ATTACHMENTS:
        message = _("At most %(n)d files at a time.", n=MAX_ATTACHMENTS)
        raise ValidationFailed(message, files=message)
    checked = []
    for file in files:  # every file is checked before any is stored
        result = documents.sniff(file)
        if isinstance(result, str):
            message = _(
                "%(name)s was not added: %(why)s",
                name=documents.display_name(file.filename),
                why=result,
            )
            raise ValidationFailed(message, files=message)
        checked.append((file, *result))
    max_bytes = current_app.config["UPLOAD_MAX_MB"] * 2**20
    stored = []
    try:
        for file, suffix, head in checked:
            key, size = storage.save_stream("messages", head, file.stream, suffix, max_bytes)
            stored.append((file, suffix, key, size))
    except storage.TooLarge:
        for _file, _suffix, key, _size in stored:
            storage.delete(key)
        message = _("The file is larger than %(n)d MB.", n=current_app.config["UPLOAD_MAX_MB"])
        raise ValidationFailed(message, files=message) from None
    now = utcnow()
    if sender.id not in target.participants:
        db.session.execute(_JOIN, {"thread_id": target.id, "user_id": sender.id})
    # No read-pointer write: unread counts never include your own messages, and what you saw
    # before posting is marked read by the page you come back to.
    message_id = _insert_message(target.id, sender.id, MessageKind.TEXT, body, now)
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
            db.insert(MessageAttachment),
            [
                {
                    "message_id": msg.id,
                    "storage_key": key,
                    "original_name": documents.display_name(file.filename),
                    "content_type": next(m for m, s in documents.ACCEPTED.items() if s == suffix),
                    "size_bytes": size,
                }
                for file, suffix, key, size in stored
            ],
        )
    # a Thread this session already holds did not see those statements
    loaded = db.session.identity_map.get(db.session.identity_key(Thread, target.id))
    if loaded is not None:
        db.session.expire(loaded, ["last_message_at", "participants"])
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
    message_id = _insert_message(thread.id, None, MessageKind.SYSTEM, action, now)
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
    row = row or _join(thread, user.id)
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


def support_threads_for_admins(limit: int = 50) -> list[Thread]:
    return list(
        db.session.scalars(
            db.select(Thread)
            .where(Thread.kind == ThreadKind.SUPPORT, Thread.last_message_at.is_not(None))
            .order_by(Thread.last_message_at.desc())
            .limit(limit)
        )
    )


def thread_title(thread: Thread, viewer: User) -> str:
    if thread.kind == ThreadKind.SUPPORT:
        if viewer.is_admin:
            owner = db.session.get(User, int(thread.key.split(":")[1]))
            return _("Support: %(name)s", name=owner.full_name if owner else "?")
        return _("FinancialTracker support")
    if thread.kind == ThreadKind.DOSSIER:
        return _("Dossier %(product)s", product=thread.title)
    if thread.kind == ThreadKind.REFERRAL:
        referrer_id, client_id = (int(x) for x in thread.key.split(":")[1:])
        referrer, client = db.session.get(User, referrer_id), db.session.get(User, client_id)
        if viewer.id == client_id:
            return _("Your referrer %(name)s", name=referrer.full_name)
        company = client.client_profile.company_name if client.client_profile else ""
        if viewer.id == referrer_id:
            return _("%(name)s (%(company)s)", name=client.full_name, company=company)
        return _(
            "Referral: %(referrer)s → %(company)s", referrer=referrer.full_name, company=company
        )
    return thread.title


def others_with_presence(thread: Thread, viewer: User) -> list[tuple[User, bool, object]]:
    """The other participants with (online now, last seen as an aware datetime or None)."""
    from datetime import UTC, datetime

    others = [p.user for p in thread.participants if p.user_id != viewer.id]
    status = presence.status([u.id for u in others])
    found = []
    for user in others:
        online, last = status.get(user.id, (False, None))
        when = datetime.fromtimestamp(last, UTC) if last else None
        found.append((user, online, when))
    return found


# -- search --------------------------------------------------------------------------------------

SEARCH_PAGE = 20


def _fold(text: str) -> str:
    """Lower case without accents: how the search indexes compare words."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_terms(query: str) -> list[str]:
    return [_fold(w) for w in re.findall(r"\w+", (query or "")[:200])][:8]


def search(user: User, query: str, before_id: int | None = None, limit: int = SEARCH_PAGE):
    """Messages matching every word of `query` (as word prefixes, accents ignored) in the
    threads the user may read, newest first, keyset on the id; returns (messages, next id)."""
    terms = search_terms(query)
    if not terms:
        return [], None
    stmt = (
        db.select(Message)
        .join(Thread, Thread.id == Message.thread_id)
        .where(Message.kind == MessageKind.TEXT)
        .options(db.joinedload(Message.sender), db.contains_eager(Message.thread))
        .order_by(Message.id.desc())
        .limit(limit + 1)
    )
    if db.engine.dialect.name == "postgresql":
        expr = " & ".join(f"{t}:*" for t in terms)
        stmt = stmt.where(
            text(
                "messages.search_vector @@ to_tsquery('french', ft_unaccent(:tsquery))"
            ).bindparams(tsquery=expr)
        )
    else:
        expr = " ".join(f'"{t}"*' for t in terms)
        stmt = stmt.where(
            Message.id.in_(
                text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH :match").bindparams(
                    match=expr
                )
            )
        )
    if not user.is_admin:
        mine = db.select(ThreadParticipant.thread_id).where(ThreadParticipant.user_id == user.id)
        # a replaced expert keeps a participant row but no longer reads the dossier's thread
        current = db.select(Dossier.id).where(
            db.or_(Dossier.client_id == user.id, Dossier.expert_id == user.id)
        )
        stmt = stmt.where(
            Thread.id.in_(mine),
            db.or_(Thread.kind != ThreadKind.DOSSIER, Thread.dossier_id.in_(current)),
        )
    if before_id:
        stmt = stmt.where(Message.id < before_id)
    rows = list(db.session.scalars(stmt))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def highlight(body: str, terms: list[str]) -> Markup:
    """The message escaped, each word starting with a searched term wrapped in <mark>."""
    out = []
    for part in re.split(r"(\w+)", body):
        if part and re.fullmatch(r"\w+", part) and any(_fold(part).startswith(t) for t in terms):
            out.append(Markup("<mark>%s</mark>") % part)
        else:
            out.append(escape(part))
    return Markup("").join(out)


def attachment_for(attachment_id: int, viewer: User) -> MessageAttachment:
    """A file of a message in a thread the viewer may read (404 otherwise)."""
    attachment = db.session.get(MessageAttachment, attachment_id)
    thread = None
    if attachment is not None:
        msg = db.session.get(Message, attachment.message_id)
        thread = db.session.get(Thread, msg.thread_id) if msg else None
    require(thread is not None and can_read_thread(viewer, thread))
    return attachment


# -- email for messages left unread ----------------------------------------------------------------

UNREAD_EMAIL_MINUTES = 10


def _pending_unread(cutoff, limit: int):
    """(participant, newest unread id, unread count) for every participant with messages
    from others newer than both their last read and their last email, the newest of them sent
    before `cutoff`."""
    read = func.coalesce(ThreadParticipant.last_read_message_id, 0)
    emailed = func.coalesce(ThreadParticipant.emailed_up_to_message_id, 0)
    if db.engine.dialect.name == "postgresql":
        seen_up_to = func.greatest(read, emailed)
    else:
        seen_up_to = func.max(read, emailed)  # SQLite's two-argument max() is scalar
    return db.session.execute(
        db.select(ThreadParticipant, func.max(Message.id), func.count(Message.id))
        .join(Message, Message.thread_id == ThreadParticipant.thread_id)
        .join(User, User.id == ThreadParticipant.user_id)
        .where(
            Message.id > seen_up_to,
            Message.kind == MessageKind.TEXT,
            func.coalesce(Message.sender_id, 0) != ThreadParticipant.user_id,
            User.active.is_(True),
        )
        .group_by(ThreadParticipant.id)
        # the newest unread message must itself be old enough: a burst makes one email
        .having(func.max(Message.created_at) <= cutoff)
        .order_by(ThreadParticipant.id)
        .limit(limit)
    ).all()


def email_unread(now=None, limit: int = 500) -> int:
    """One email per (participant, thread) whose messages from others are still unread 10
    minutes after they were sent, with a preview of the newest; messages already announced are
    not announced again. Respects the preferences: no message emails (never sent), quiet
    hours (sent when they end), daily digest (left to `send_digests`). Cron: every minute."""
    from datetime import timedelta

    now = now or utcnow()
    sent = 0
    for row, newest_id, count in _pending_unread(
        now - timedelta(minutes=UNREAD_EMAIL_MINUTES), limit
    ):
        user = row.user
        if not preferences.wants(user, "message", "email"):
            row.emailed_up_to_message_id = newest_id  # declined: never reconsidered
            continue
        if preferences.choices(user).daily_digest or preferences.in_quiet_hours(user, now):
            continue
        newest = db.session.get(Message, newest_id)
        thread = db.session.get(Thread, row.thread_id)
        emails.queue_email(
            user,
            "message_unread",
            count=count,
            sender=newest.sender.full_name if newest.sender else "FinancialTracker",
            preview=_preview(newest.body),
            title=thread_title(thread, user),
            link=emails.external_url("messages.show", thread_id=thread.id),
        )
        row.emailed_up_to_message_id = newest_id
        sent += 1
    db.session.commit()
    return sent


DIGEST_HOUR = 8


def send_digests(now=None, limit: int = 5000) -> int:
    """At 8 in each user's time zone, one email listing the threads with unread messages for
    those who chose the daily digest. Cron: every hour."""

    now = now or utcnow()
    by_user: dict[int, list] = {}
    for row, newest_id, count in _pending_unread(now, limit):
        by_user.setdefault(row.user_id, []).append((row, newest_id, count))
    sent = 0
    for rows in by_user.values():
        user = rows[0][0].user
        local = now.astimezone(user.zone)
        if not preferences.choices(user).daily_digest or local.hour != DIGEST_HOUR:
            continue
        if not preferences.wants(user, "message", "email"):
            continue
        threads = []
        for row, newest_id, count in rows:
            thread = db.session.get(Thread, row.thread_id)
            threads.append(
                {
                    "title": thread_title(thread, user),
                    "count": count,
                    "preview": _preview(db.session.get(Message, newest_id).body),
                    "link": emails.external_url("messages.show", thread_id=thread.id),
                }
            )
            row.emailed_up_to_message_id = newest_id
        emails.queue_email(user, "message_digest", threads=threads)
        sent += 1
    db.session.commit()
    return sent


def _preview(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= 100 else flat[:99].rstrip() + "…"
