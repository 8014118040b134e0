"""Conversations (docs/domain.md §7).

- `contacts`       who may talk to whom
- `access`         who may read a thread: the inputs of the one rule (`app.security`)
- `threads`        opening and reading threads, their titles and who is there
- `posting`        a person's messages and files, the platform's system messages
- `reading`        pages of messages, read marks and "seen", attachments
- `inbox`          a person's threads with unread counts, the badge, the support inbox
- `searching`      message search and highlighting
- `unread_emails`  emails and digests for messages left unread

Participants are rows, each with the last message they have read, so unread counts are one
query. New messages reach the other participants as a signal after commit (`message:new`);
their pages fetch the HTML through the same authorised views.
"""

from app.services.messaging.contacts import may_contact
from app.services.messaging.inbox import (
    ThreadRow,
    badge_counts,
    support_threads_for_admins,
    threads_for,
    unread_query,
)
from app.services.messaging.posting import MAX_ATTACHMENTS, MAX_LENGTH, post, system_message
from app.services.messaging.reading import (
    PAGE,
    attachment_for,
    history,
    mark_read,
    newer,
    seen_by_others,
)
from app.services.messaging.searching import SEARCH_PAGE, highlight, search, search_terms
from app.services.messaging.threads import (
    dossier_thread,
    get_thread,
    open_dossier_thread,
    open_referral_thread,
    open_support_thread,
    others_with_presence,
    support_thread,
    thread_title,
)
from app.services.messaging.unread_emails import email_unread, send_digests

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_LENGTH",
    "PAGE",
    "SEARCH_PAGE",
    "ThreadRow",
    "attachment_for",
    "dossier_thread",
    "email_unread",
    "get_thread",
    "highlight",
    "history",
    "mark_read",
    "may_contact",
    "newer",
    "open_dossier_thread",
    "open_referral_thread",
    "open_support_thread",
    "others_with_presence",
    "post",
    "search",
    "search_terms",
    "seen_by_others",
    "send_digests",
    "support_thread",
    "support_threads_for_admins",
    "system_message",
    "thread_title",
    "threads_for",
    "unread_query",
    "badge_counts",
]
