"""Side effects after commit: a callback registered here runs only if the transaction commits."""

from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

_KEY = "after_commit_callbacks"
G = TypeVar("G", bound=Callable[[], None])


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current transaction commits (at once when none is open, or
    when called from a callback of a commit: that transaction is done)."""
    session = db.session()
    if session.in_transaction() and not session.info.get("after_commit_running"):
        session.info.setdefault(_KEY, []).append(callback)
    else:
        callback()


def after_commit_gathered(kind: Callable[[], G]) -> G | None:
    """The `kind()` callback of the current transaction, made and registered by the first
    caller: side effects gathered over a transaction and sent together once it commits. None
    when no transaction is open (the caller acts at once)."""
    session = db.session()
    # inside a callback of a commit the session still reads as in a transaction, but the list
    # of callbacks was already taken: what is gathered now would never run
    if not session.in_transaction() or session.info.get("after_commit_running"):
        return None
    callbacks = session.info.setdefault(_KEY, [])
    for callback in callbacks:
        if type(callback) is kind:
            return callback
    gathered = kind()
    callbacks.append(gathered)
    return gathered


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session has loaded, for a request that goes on to
    render it: a plain commit would reload each object one query at a time."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    callbacks = session.info.pop(_KEY, None) or ()
    if not callbacks:
        return
    # the session cannot write now: a callback that must (the outbox) uses its own connection
    session.info["after_commit_running"] = True
    try:
        for callback in callbacks:
            try:
                callback()
            except Exception:  # the data is committed; a lost side effect is logged, not raised
                current_app.logger.exception("after-commit callback failed")
    finally:
        session.info.pop("after_commit_running", None)


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_KEY, None)
