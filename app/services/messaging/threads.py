"""Threads: a dossier's (its client, its expert, the admins), each user's support thread with
the admins, a referrer's with each of their clients; opening one, reading one (404 for anyone
the rule in `access` refuses), its title and who else is there."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.db import commit_keeping_loaded
from app.extensions import db
from app.models import (
    Dossier,
    Role,
    Thread,
    ThreadKind,
    ThreadParticipant,
    User,
)
from app.realtime import presence
from app.security import can_read_thread, require
from app.services.messaging import access
from app.services.messaging.contacts import may_contact


def by_key(key: str) -> Thread | None:
    """The thread and its participants, in one round trip (every caller joins it next)."""
    query = db.select(Thread).where(Thread.key == key).options(db.joinedload(Thread.participants))
    return db.session.execute(query).unique().scalar_one_or_none()


def get_or_create(key: str, **fields) -> Thread:
    thread = by_key(key)
    if thread is not None:
        return thread
    try:
        with db.session.begin_nested():  # a concurrent twin loses on the unique key
            thread = Thread(key=key, participants=[], **fields)  # new: nobody to load
            db.session.add(thread)
    except IntegrityError:
        thread = by_key(key)
    return thread


def load(thread_id: int) -> Thread | None:
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


def join(thread: Thread, user_id: int) -> ThreadParticipant:
    row = next((p for p in thread.participants if p.user_id == user_id), None)
    if row is None:  # written with the caller's next flush, with any other new ones at once
        row = ThreadParticipant(user_id=user_id)
        thread.participants.append(row)
    return row


def dossier_thread(dossier: Dossier) -> Thread:
    thread = get_or_create(
        f"dossier:{dossier.id}",
        kind=ThreadKind.DOSSIER,
        dossier_id=dossier.id,
        title=dossier.product.name,
    )
    join(thread, dossier.client_id)
    if dossier.expert_id is not None:
        join(thread, dossier.expert_id)
    return thread


def support_thread(user: User) -> Thread:
    thread = get_or_create(f"support:{user.id}", kind=ThreadKind.SUPPORT, title="")
    join(thread, user.id)
    return thread


def open_referral_thread(viewer: User, other_id: int) -> Thread:
    """The thread between a referrer and one of their clients, opened by either (404 for
    anyone else: the contact rules decide)."""
    other = db.session.get(User, other_id)
    require(
        other is not None
        and Role.REFERRER in (viewer.role, other.role)
        and may_contact(viewer, other)
    )
    referrer, client = (viewer, other) if viewer.role == Role.REFERRER else (other, viewer)
    thread = get_or_create(
        f"referral:{referrer.id}:{client.id}", kind=ThreadKind.REFERRAL, title=""
    )
    join(thread, referrer.id)
    join(thread, client.id)
    db.session.commit()
    return thread


def open_dossier_thread(dossier_id: int, viewer: User) -> Thread:
    dossier = db.session.get(Dossier, dossier_id)
    # the thread's own rule, asked before it exists: seeing a dossier (a firm's runner, the
    # expert asked to accept it) is not reading its conversation, and nothing is created for
    # someone who would then get a 404
    require(dossier is not None and can_read_thread(viewer, access.facts_of_dossier(dossier)))
    thread = dossier_thread(dossier)
    db.session.commit()
    return thread


def open_support_thread(user: User) -> Thread:
    thread = support_thread(user)
    db.session.commit()
    return thread


def get_thread(thread_id: int, user: User, ip: str | None = None) -> Thread:
    """A thread the user may read (404 otherwise). An admin reading a thread they are not
    part of is audited."""
    thread = load(thread_id)
    require(thread is not None and can_read_thread(user, access.facts_of(thread)))
    changed = False
    if user.is_admin and thread.kind != ThreadKind.SUPPORT:
        audit.record(user, "thread.read", "thread", thread.id, ip)
        changed = True
    if not any(p.user_id == user.id for p in thread.participants):
        join(thread, user.id)
        changed = True
    if changed:
        commit_keeping_loaded()
    return thread


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
    others = [p.user for p in thread.participants if p.user_id != viewer.id]
    status = presence.status([u.id for u in others])
    found = []
    for user in others:
        online, last = status.get(user.id, (False, None))
        when = datetime.fromtimestamp(last, UTC) if last else None
        found.append((user, online, when))
    return found
