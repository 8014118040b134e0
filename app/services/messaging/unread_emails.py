"""Emails for messages left unread: one per thread ten minutes after the newest, or a daily
digest, as each person's preferences say."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func

from app.extensions import db
from app.models import (
    Message,
    MessageKind,
    Thread,
    ThreadParticipant,
    User,
    utcnow,
)
from app.services.messaging.threads import thread_title
from app.services.notifications import emails, preferences

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
