"""Searching messages (every word as a prefix, accents ignored) in the threads a person may
read, and highlighting the words found."""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape
from sqlalchemy import text

from app.extensions import db
from app.models import (
    Message,
    MessageKind,
    Thread,
    User,
)
from app.services.messaging import access

SEARCH_PAGE = 20


def fold(text: str) -> str:
    """Lower case without accents: how the search indexes compare words."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_terms(query: str) -> list[str]:
    return [fold(w) for w in re.findall(r"\w+", (query or "")[:200])][:8]


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
    if not user.is_admin:  # the threads they are in and may still read
        stmt = stmt.where(Thread.id.in_(access.readable_thread_ids(user)))
    if before_id:
        stmt = stmt.where(Message.id < before_id)
    rows = list(db.session.scalars(stmt))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def highlight(body: str, terms: list[str]) -> Markup:
    """The message escaped, each word starting with a searched term wrapped in <mark>."""
    out = []
    for part in re.split(r"(\w+)", body):
        if part and re.fullmatch(r"\w+", part) and any(fold(part).startswith(t) for t in terms):
            out.append(Markup("<mark>%s</mark>") % part)
        else:
            out.append(escape(part))
    return Markup("").join(out)
