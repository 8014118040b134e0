"""Side effects after commit: a callback registered here runs only if the transaction commits."""

from collections.abc import Callable

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

_KEY = "after_commit_callbacks"


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current transaction commits (at once when none is open)."""
    from app.extensions import db

    session = db.session()
    if session.in_transaction():
        session.info.setdefault(_KEY, []).append(callback)
    else:
        callback()


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session has loaded, for a request that goes on to
    render it: a plain commit would reload each object one query at a time."""
    from app.extensions import db

    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    for callback in session.info.pop(_KEY, None) or ():
        try:
            callback()
        except Exception:  # the data is committed; a lost side effect is logged, not raised
            current_app.logger.exception("after-commit callback failed")


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_KEY, None)
