"""Replies by email (docs/domain.md A11): an SMTP server (aiosmtpd) that takes mail for the
tickets' own addresses (`tickets.reply_address`) and adds each message to its ticket as a
reply of its sender, who must be the ticket's requester or one of the team. What the mail
program quoted below the reply is cut. `flask support mail-in` runs it; production puts it
behind the MX of MAIL_INBOUND_DOMAIN (docs/operations.md)."""

from __future__ import annotations

import email
import email.policy
import logging
import re
from email.utils import parseaddr

from app.core.validators import normalize_email
from app.extensions import db
from app.models import User
from app.security import can_handle_tickets
from app.services.support import tickets

log = logging.getLogger(__name__)
# the lines mail programs put above what they quote
_QUOTE_HEADERS = (
    re.compile(r"^\s*On .+ wrote:\s*$"),
    re.compile(r"^\s*Le .+ a écrit\s*:\s*$"),
    re.compile(r"^-{2,}\s*(Original Message|Message d'origine)\s*-{2,}", re.IGNORECASE),
    re.compile(r"^\s*(From|De)\s*:\s"),
)


def reply_text(message) -> str:
    """The new text of a reply: its plain part (or its HTML flattened), above our marker and
    above whatever the mail program quoted."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content()
    if part.get_content_type() == "text/html":
        text = re.sub(r"<br\s*/?>|</p>", "\n", text, flags=re.IGNORECASE)
        text = re.sub(r"<[^>]+>", "", text)
    kept = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if tickets.REPLY_MARKER in line or any(p.match(line) for p in _QUOTE_HEADERS):
            break
        kept.append(line)
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    return "\n".join(line for line in kept if not line.lstrip().startswith(">")).strip()


def deliver(recipients: list[str], raw: bytes) -> str:
    """One incoming message → an SMTP answer. Called inside an app (and request) context."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    sender_address = normalize_email(parseaddr(str(message.get("From", "")))[1])
    sender = db.session.scalar(db.select(User).where(User.email == sender_address))
    done = 0
    for recipient in recipients:
        ticket = tickets.ticket_of_address(recipient)
        if ticket is None:
            continue
        if (
            sender is None
            or not sender.active
            or not (sender.id == ticket.requester_id or can_handle_tickets(sender))
        ):
            log.info(
                "ticket mail refused: sender %s is not on ticket %s", sender_address, ticket.id
            )
            return "550 5.7.1 This address does not take mail from you"
        body = reply_text(message)
        if not body:
            return "550 5.6.0 The message has no text"
        try:
            tickets.reply(sender, ticket, body, via="email")
        except Exception:  # a merged ticket, a body too long: say so to the sender's server
            db.session.rollback()
            log.exception("ticket mail not added to ticket %s", ticket.id)
            return "550 5.6.0 The reply could not be added to the ticket"
        done += 1
    return "250 OK" if done else "550 5.1.1 No such ticket address"


class Handler:
    """aiosmtpd's handler: each message is handled in the app's context."""

    def __init__(self, app):
        self.app = app

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.app.app_context():
            if tickets.ticket_of_address(address) is None:
                return "550 5.1.1 No such ticket address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from app.core.jobs import public_context

        with self.app.app_context(), public_context():
            try:
                return deliver(list(envelope.rcpt_tos), envelope.content)
            finally:
                db.session.remove()
