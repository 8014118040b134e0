"""Support tickets (docs/domain.md A11): opened by any signed-in user (from any page, linked to
a dossier when opened from one), worked by the team (assign, reply, internal notes, status,
merge), answered by email too, rated at resolution.

Internal notes never reach the requester: every reading of a ticket's messages goes through
`messages_for(viewer, ticket)`, which the page, the emails, the export and the JSON share."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core.errors import InvalidTransition, NotFound, ValidationFailed
from app.extensions import cache, db
from app.models import (
    ACTIVE_STATUSES,
    Dossier,
    Priority,
    Role,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketMessage,
    TicketStatus,
    User,
    utcnow,
)
from app.realtime import notify
from app.security import (
    SUPPORT_ROLES,
    can_handle_tickets,
    can_rate_ticket,
    can_read_internal_notes,
    can_view_dossier,
    can_view_ticket,
    require,
)
from app.services import notifications
from app.services.dossiers import documents
from app.services.notifications import emails
from app.services.support import sla

STATUS_LABELS = {
    TicketStatus.NEW: _l("New"),
    TicketStatus.OPEN: _l("Open"),
    TicketStatus.PENDING: _l("Waiting for your answer"),
    TicketStatus.RESOLVED: _l("Resolved"),
    TicketStatus.CLOSED: _l("Closed"),
}
# what the team reads (the requester reads STATUS_LABELS)
TEAM_STATUS_LABELS = {**STATUS_LABELS, TicketStatus.PENDING: _l("Pending (waiting on requester)")}
CATEGORY_LABELS = {
    TicketCategory.ACCOUNT: _l("My account"),
    TicketCategory.DOSSIER: _l("A dossier"),
    TicketCategory.BILLING: _l("Billing and payments"),
    TicketCategory.TECHNICAL: _l("Something does not work"),
    TicketCategory.OTHER: _l("Something else"),
}
PRIORITY_LABELS = {
    Priority.LOW: _l("Low"),
    Priority.MEDIUM: _l("Normal"),
    Priority.HIGH: _l("High"),
    Priority.URGENT: _l("Urgent"),
}
MAX_SUBJECT = 200
MAX_BODY = 10_000
MAX_FILES = 3
# the statuses the team may set by hand (new is where a ticket starts, closed where rating or
# the closing sweep puts it)
TEAM_MOVES = (TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.RESOLVED, TicketStatus.CLOSED)
CLOSE_AFTER = timedelta(days=7)  # a resolved ticket nobody answers is closed after a week
# what an email client quotes below the reply: everything from here down is cut
REPLY_MARKER = "## ------------------------------------------------ ##"


def _choice(enum_cls, raw, field: str, message):
    try:
        return enum_cls(raw)
    except ValueError:
        raise ValidationFailed(message, **{field: message}) from None


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        message = _("Write your message.")
        raise ValidationFailed(message, body=message)
    if len(body) > MAX_BODY:
        message = _("At most %(n)s characters.", n=MAX_BODY)
        raise ValidationFailed(message, body=message)
    return body


# -- opening ---------------------------------------------------------------------------------------


def open_ticket(
    requester: User,
    *,
    category: str,
    priority: str,
    subject: str,
    body: str,
    files=(),
    dossier_id: int | None = None,
) -> Ticket:
    """A new ticket with its first message. A dossier named must be one the requester sees.

    :raises ValidationFailed: a field is missing or wrong, or a file is refused; nothing is
        stored and the caller shows the form again with what was typed."""
    errors = {}
    subject = (subject or "").strip()
    if not subject:
        errors["subject"] = _("Give your request a subject.")
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = _("At most %(n)s characters.", n=MAX_SUBJECT)
    try:
        body = _clean_body(body)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        category = _choice(TicketCategory, category, "category", _("Choose a category."))
        priority = _choice(Priority, priority, "priority", _("Choose a priority."))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), **errors)
    dossier = None
    if dossier_id is not None:
        dossier = db.session.get(Dossier, dossier_id)
        require(dossier is not None and can_view_dossier(requester, dossier))
    stored = documents.store_attachments("tickets", list(files), MAX_FILES)
    now = utcnow()
    ticket = Ticket(
        requester_id=requester.id,
        dossier_id=dossier.id if dossier else None,
        category=category,
        priority=priority,
        subject=subject,
        status=TicketStatus.NEW,
        created_at=now,
    )
    db.session.add(ticket)
    db.session.flush()
    _add_message(ticket, requester, body, False, stored, "web", now)
    sla.start(ticket, now)
    tell_team(ticket, "ticket_new", _l("A new ticket is waiting"))
    emails.queue_email(
        requester,
        "ticket_opened",
        ticket=ticket,
        link=emails.external_url("support.ticket", ticket_id=ticket.id),
        reply_to=reply_address(ticket),
        subject=_subject(ticket),
        marker=REPLY_MARKER,
    )
    _changed(ticket)
    db.session.commit()
    return ticket


def _add_message(ticket, author, body, internal, stored, via, now) -> TicketMessage:
    message = TicketMessage(
        ticket_id=ticket.id,
        author_id=author.id if author else None,
        body=body,
        internal=internal,
        via=via,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    for row in stored:
        db.session.add(TicketAttachment(message_id=message.id, **row))
    ticket.updated_at = now
    return message


def _subject(ticket: Ticket):
    return _l("[Ticket #%(n)s] %(subject)s", n=ticket.id, subject=ticket.subject)


def _changed(ticket: Ticket) -> None:
    """The live signal: the queue and the ticket page fetch their own HTML again."""
    notify.signal("support", "ticket:changed", ticket_id=ticket.id)
    notify.to_user(ticket.requester_id, "ticket:changed", ticket_id=ticket.id)


def tell_team(ticket: Ticket, kind: str, title) -> None:
    """The ticket's agent, or every active member of the team while nobody has it."""
    if ticket.assignee is not None and ticket.assignee.active:
        people = [ticket.assignee]
    else:
        people = (
            db.session.scalars(
                db.select(User).where(User.role == Role.SUPPORT, User.active.is_(True))
            ).all()
            or notifications.active_admins()
        )
    for person in people:
        notifications.create(
            person,
            kind,
            title,
            f"#{ticket.id} {ticket.subject}",
            link=url_for("support.ticket", ticket_id=ticket.id),
            priority=Priority.HIGH
            if ticket.priority in (Priority.HIGH, Priority.URGENT)
            else Priority.MEDIUM,
            object_ref=f"ticket:{ticket.id}",
            threshold=utcnow().isoformat(timespec="seconds"),  # each event is news
        )


# -- reading ---------------------------------------------------------------------------------------


def get(viewer: User, ticket_id: int) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id)
    require(can_view_ticket(viewer, ticket))
    return ticket


def messages_for(viewer: User | None, ticket: Ticket) -> list[TicketMessage]:
    """What `viewer` may read of the ticket, oldest first: the team reads everything, the
    requester (and every channel that reaches them) the public replies only."""
    query = db.select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
    if viewer is None or not can_read_internal_notes(viewer, ticket):
        query = query.where(TicketMessage.internal.is_(False))
    return db.session.scalars(query.order_by(TicketMessage.id)).all()


def as_json(viewer: User, ticket: Ticket) -> dict:
    """The ticket as the API and the export give it: through `messages_for`, like the page."""
    return {
        "id": ticket.id,
        "subject": ticket.subject,
        "status": ticket.status.value,
        "category": ticket.category.value,
        "priority": ticket.priority.value,
        "created_at": ticket.created_at.isoformat(),
        "dossier_id": ticket.dossier_id,
        "satisfaction": ticket.satisfaction,
        "messages": [
            {
                "id": m.id,
                "author": m.author.full_name if m.author else None,
                "body": m.body,
                "internal": m.internal,
                "created_at": m.created_at.isoformat(),
                "attachments": [a.original_name for a in m.attachments],
            }
            for m in messages_for(viewer, ticket)
        ],
    }


def attachment(viewer: User, attachment_id: int) -> TicketAttachment:
    row = db.session.get(TicketAttachment, attachment_id)
    if row is None:
        raise NotFound()
    message = db.session.get(TicketMessage, row.message_id)
    ticket = get(viewer, message.ticket_id)
    require(not message.internal or can_read_internal_notes(viewer, ticket))
    return row


def of_requester(user: User, limit: int = 50) -> list[Ticket]:
    return db.session.scalars(
        db.select(Ticket)
        .where(Ticket.requester_id == user.id, Ticket.merged_into_id.is_(None))
        .order_by(Ticket.id.desc())
        .limit(limit)
    ).all()


@dataclass(frozen=True)
class QueueFilters:
    status: TicketStatus | None = None
    active: bool = True  # new, open and pending only (the default queue)
    assignee_id: int | None = None  # 0: nobody's
    priority: Priority | None = None
    category: TicketCategory | None = None
    q: str = ""


def read_filters(args, viewer: User) -> QueueFilters:
    def pick(enum_cls, value):
        try:
            return enum_cls(value) if value else None
        except ValueError:
            return None

    status_raw = args.get("status") or ""
    whose = args.get("whose") or ""
    assignee = {"mine": viewer.id, "nobody": 0}.get(whose)
    return QueueFilters(
        status=pick(TicketStatus, status_raw),
        active=status_raw in ("", "active"),
        assignee_id=assignee,
        priority=pick(Priority, args.get("priority")),
        category=pick(TicketCategory, args.get("category")),
        q=(args.get("q") or "").strip()[:100],
    )


QUEUE_PAGE = 25  # like the lead list: a screenful or two, the filters narrow the rest


def queue(viewer: User, filters: QueueFilters, before_id: int | None = None):
    """The team's queue, newest first by pages of 50 (keyset on the id)."""
    require(can_handle_tickets(viewer))
    query = db.select(Ticket).where(Ticket.merged_into_id.is_(None))
    if filters.status is not None:
        query = query.where(Ticket.status == filters.status)
    elif filters.active:
        query = query.where(Ticket.status.in_(ACTIVE_STATUSES))
    if filters.assignee_id == 0:
        query = query.where(Ticket.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        query = query.where(Ticket.assignee_id == filters.assignee_id)
    if filters.priority is not None:
        query = query.where(Ticket.priority == filters.priority)
    if filters.category is not None:
        query = query.where(Ticket.category == filters.category)
    if filters.q:
        number = filters.q.lstrip("#")
        if number.isdigit() and len(number) < 10:
            query = query.where(Ticket.id == int(number))
        else:
            escaped = filters.q.lower().replace("\\", "\\\\").replace("%", r"\%")
            query = query.where(
                db.func.lower(Ticket.subject).like(escaped.replace("_", r"\_") + "%", escape="\\")
            )
    if before_id:
        query = query.where(Ticket.id < before_id)
    # the rows show the people's names only
    names = (User.first_name, User.last_name)
    query = query.options(
        db.joinedload(Ticket.requester).load_only(*names),
        db.joinedload(Ticket.assignee).load_only(*names),
    )
    rows = db.session.scalars(query.order_by(Ticket.id.desc()).limit(QUEUE_PAGE + 1)).all()
    return rows[:QUEUE_PAGE], (rows[QUEUE_PAGE - 1].id if len(rows) > QUEUE_PAGE else None)


def counts() -> dict[TicketStatus, int]:
    found = {TicketStatus(k): n for k, n in _counts().items()}
    return {s: found.get(s, 0) for s in ACTIVE_STATUSES}


@cache.cache_on_arguments()
def _counts() -> dict[str, int]:
    """The queue's header: a count over the index of every active ticket, shared by the
    whole team for a few seconds."""
    rows = db.session.execute(
        db.select(Ticket.status, db.func.count())
        .where(Ticket.merged_into_id.is_(None), Ticket.status.in_(ACTIVE_STATUSES))
        .group_by(Ticket.status)
    ).all()
    return {status.value: n for status, n in rows}


def agents() -> list[User]:
    return db.session.scalars(
        db.select(User)
        .where(User.role.in_(SUPPORT_ROLES), User.active.is_(True))
        .order_by(User.first_name, User.last_name)
    ).all()


# -- the team's work -------------------------------------------------------------------------------


def reply(
    author: User,
    ticket: Ticket,
    body: str,
    *,
    internal: bool = False,
    files=(),
    status: str | None = None,
    via: str = "web",
) -> TicketMessage:
    """A reply on a ticket. From the team: public (emailed to the requester, and the first one
    stops the first-response clock) or an internal note (for the team only), with an optional
    new status. From the requester: reopens a pending or resolved ticket.

    :raises ValidationFailed: an empty reply or a refused file (the caller keeps the text)."""
    require(can_view_ticket(author, ticket))
    if ticket.merged_into_id is not None:
        raise InvalidTransition(_("This ticket was merged into #%(n)s.", n=ticket.merged_into_id))
    body = _clean_body(body)
    agent = can_handle_tickets(author) and author.id != ticket.requester_id
    internal = internal and agent
    new_status = None
    if agent and status:
        new_status = _choice(TicketStatus, status, "status", _("Choose a status."))
        if new_status not in TEAM_MOVES:
            raise ValidationFailed(_("Choose a status."), status=_("Choose a status."))
    stored = documents.store_attachments("tickets", list(files), MAX_FILES)
    now = utcnow()
    message = _add_message(ticket, author, body, internal, stored, via, now)
    if agent:
        if not internal:
            sla.responded(ticket, now)
            if ticket.assignee_id is None:
                ticket.assignee_id = author.id  # who answers takes it
        target = new_status or (
            TicketStatus.OPEN if ticket.status == TicketStatus.NEW and not internal else None
        )
        if target is not None and target != ticket.status:
            _set_status(ticket, target, now)
        if not internal:
            _email_requester(ticket, "ticket_reply", message)
    else:
        if ticket.status in (TicketStatus.PENDING, TicketStatus.RESOLVED, TicketStatus.CLOSED):
            _set_status(ticket, TicketStatus.OPEN, now)
        tell_team(ticket, "ticket_reply", _l("The requester answered a ticket"))
    _changed(ticket)
    db.session.commit()
    return message


def _email_requester(ticket: Ticket, template: str, message: TicketMessage | None) -> None:
    """An email to the requester carrying a public reply (never a note: `message` is public by
    construction, and the thread below is read through `messages_for(None, …)`)."""
    assert message is None or not message.internal
    requester = db.session.get(User, ticket.requester_id)
    emails.queue_notification_email(
        requester,
        template,
        template,
        ticket=ticket,
        message=message,
        earlier=[m for m in messages_for(None, ticket) if message is None or m.id != message.id][
            -3:
        ],
        link=emails.external_url("support.ticket", ticket_id=ticket.id),
        reply_to=reply_address(ticket),
        subject=_subject(ticket),
        marker=REPLY_MARKER,
    )


def _set_status(ticket: Ticket, status: TicketStatus, now: datetime) -> None:
    previous = ticket.status
    if previous == status:
        return
    if previous == TicketStatus.PENDING:
        sla.resume(ticket, now)
    if status == TicketStatus.PENDING:
        sla.pause(ticket, now)
    if status == TicketStatus.RESOLVED:
        sla.resolved(ticket, now)
    if status == TicketStatus.CLOSED:
        ticket.closed_at = now
        if ticket.resolved_at is None:
            sla.resolved(ticket, now)
    if previous in (TicketStatus.RESOLVED, TicketStatus.CLOSED) and status in ACTIVE_STATUSES:
        sla.reopened(ticket, now)
    ticket.status = status


def change_status(actor: User, ticket: Ticket, status: str) -> Ticket:
    require(can_view_ticket(actor, ticket))
    if not can_handle_tickets(actor):
        raise InvalidTransition(_("Only the support team changes a ticket's status."))
    target = _choice(TicketStatus, status, "status", _("Choose a status."))
    if target not in TEAM_MOVES:
        raise ValidationFailed(_("Choose a status."), status=_("Choose a status."))
    if ticket.merged_into_id is not None:
        raise InvalidTransition(_("This ticket was merged into #%(n)s.", n=ticket.merged_into_id))
    now = utcnow()
    _set_status(ticket, target, now)
    if target == TicketStatus.RESOLVED:
        _email_requester(ticket, "ticket_resolved", None)
    _changed(ticket)
    db.session.commit()
    return ticket


def assign(actor: User, ticket: Ticket, assignee_id: int | None) -> Ticket:
    require(can_view_ticket(actor, ticket))
    if not can_handle_tickets(actor):
        raise InvalidTransition(_("Only the support team assigns tickets."))
    assignee = None
    if assignee_id:
        assignee = db.session.get(User, assignee_id)
        if assignee is None or assignee.role not in SUPPORT_ROLES or not assignee.active:
            message = _("Choose someone of the support team.")
            raise ValidationFailed(message, assignee=message)
    ticket.assignee_id = assignee.id if assignee else None
    if ticket.status == TicketStatus.NEW and assignee is not None:
        _set_status(ticket, TicketStatus.OPEN, utcnow())
    if assignee is not None and assignee.id != actor.id:
        notifications.create(
            assignee,
            "ticket_assigned",
            _l("A ticket was given to you"),
            f"#{ticket.id} {ticket.subject}",
            link=url_for("support.ticket", ticket_id=ticket.id),
            object_ref=f"ticket:{ticket.id}",
            threshold=utcnow().isoformat(timespec="seconds"),
        )
    _changed(ticket)
    db.session.commit()
    return ticket


def set_priority(actor: User, ticket: Ticket, priority: str) -> Ticket:
    """A new priority sets new budgets, counted from the ticket's arrival."""
    require(can_view_ticket(actor, ticket))
    if not can_handle_tickets(actor):
        raise InvalidTransition(_("Only the support team changes a ticket's priority."))
    ticket.priority = _choice(Priority, priority, "priority", _("Choose a priority."))
    ticket.response_breached = ticket.resolution_breached = False
    sla.start(ticket, ticket.created_at)
    _changed(ticket)
    db.session.commit()
    return ticket


def merge(actor: User, duplicate: Ticket, target_id: int) -> Ticket:
    """Fold a duplicate into another ticket of the same requester: its messages move there,
    it is closed and points to it."""
    require(can_view_ticket(actor, duplicate))
    if not can_handle_tickets(actor):
        raise InvalidTransition(_("Only the support team merges tickets."))
    target = db.session.get(Ticket, target_id) if target_id else None
    if target is None or target.id == duplicate.id or target.merged_into_id is not None:
        message = _("Give the number of another open ticket.")
        raise ValidationFailed(message, target=message)
    if target.requester_id != duplicate.requester_id:
        # the other requester would read this one's messages
        message = _("Only tickets of the same requester can be merged.")
        raise ValidationFailed(message, target=message)
    now = utcnow()
    db.session.execute(
        db.update(TicketMessage)
        .where(TicketMessage.ticket_id == duplicate.id)
        .values(ticket_id=target.id)
    )
    note = _(
        "Ticket #%(a)s (%(subject)s) was merged into this one.",
        a=duplicate.id,
        subject=duplicate.subject,
    )
    _add_message(target, actor, note, True, [], "web", now)
    duplicate.merged_into_id = target.id
    _set_status(duplicate, TicketStatus.CLOSED, now)
    if target.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        _set_status(target, TicketStatus.OPEN, now)
    _changed(duplicate)
    _changed(target)
    db.session.commit()
    return target


def rate(requester: User, ticket: Ticket, score, comment: str = "") -> Ticket:
    require(can_view_ticket(requester, ticket))
    if not can_rate_ticket(requester, ticket):
        raise InvalidTransition(_("This ticket cannot be rated now."))
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        message = _("Choose a mark from 1 to 5.")
        raise ValidationFailed(message, score=message)
    ticket.satisfaction = score
    ticket.satisfaction_comment = (comment or "").strip()[:1000]
    _set_status(ticket, TicketStatus.CLOSED, utcnow())
    _changed(ticket)
    db.session.commit()
    return ticket


def close_resolved(at: datetime | None = None, batch: int = 1000) -> int:
    """Resolved tickets nobody answered for a week are closed (they can still be rated)."""
    now = at or utcnow()
    rows = db.session.scalars(
        db.select(Ticket)
        .where(Ticket.status == TicketStatus.RESOLVED, Ticket.resolved_at < now - CLOSE_AFTER)
        .limit(batch)
    ).all()
    for ticket in rows:
        _set_status(ticket, TicketStatus.CLOSED, now)
    db.session.commit()
    return len(rows)


# -- replies by email ------------------------------------------------------------------------------


def _token(ticket_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"ticket:{ticket_id}".encode(), hashlib.sha256).hexdigest()[:20]


def reply_address(ticket: Ticket) -> str:
    """The ticket's own address: a reply to any of its emails lands on it. The signature
    makes it unguessable from the ticket's number."""
    return f"ticket-{ticket.id}-{_token(ticket.id)}@{current_app.config['MAIL_INBOUND_DOMAIN']}"


def ticket_of_address(address: str) -> Ticket | None:
    local, _at, domain = (address or "").strip().lower().partition("@")
    if domain != current_app.config["MAIL_INBOUND_DOMAIN"].lower():
        return None
    parts = local.split("-")
    if len(parts) != 3 or parts[0] != "ticket" or not parts[1].isdigit() or len(parts[1]) > 9:
        return None
    if not hmac.compare_digest(parts[2], _token(int(parts[1]))):
        return None
    return db.session.get(Ticket, int(parts[1]))
