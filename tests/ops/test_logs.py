"""Logs and errors (A12): JSON lines with the request and the user, in a file rotated by size;
errors sent to a Sentry-protocol endpoint (a real local HTTP server receiving the envelope)
without the personal data of the request."""

import json
import logging

from app.factory import create_app
from app.models import Role
from tests.factories import login, make_user


def _restore_logging(app):
    from app.core.logs import configure_logging

    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_JSON"])


def test_json_lines_carry_the_request_and_the_user_and_rotate(app, tmp_path):
    path = tmp_path / "logs" / "web.log"
    logged = create_app(TESTING=True, LOG_FILE=str(path), LOG_MAX_MB=0.01, LOG_BACKUPS=3)
    try:
        make_user(app, Role.CLIENT, email="logged@example.fr")
        client = logged.test_client()
        login(client, "logged@example.fr")
        logging.getLogger("financialtracker.access").setLevel(logging.INFO)
        client.get("/help", headers={"X-Request-ID": "req-42"})
        lines = [json.loads(x) for x in path.read_text().splitlines()]
        [line] = [x for x in lines if x.get("request_id") == "req-42"]
        assert line["path"] == "/help" and line["status"] == 200 and line["level"] == "INFO"
        assert isinstance(line["user_id"], int)
        for _ in range(200):  # well over 10 KB: rotated, at most 3 old files kept
            logging.getLogger("test").warning("x" * 200)
        files = sorted(p.name for p in path.parent.iterdir() if p.name.startswith("web.log"))
        rotated = [f for f in files if f != "web.log"]
        assert 1 <= len(rotated) <= 3
        assert path.stat().st_size < 20 * 1024
    finally:
        logging.getLogger("financialtracker.access").setLevel(logging.NOTSET)
        _restore_logging(app)


def test_a_log_line_after_a_commit_reads_the_user_without_opening_a_transaction(app):
    """Defect: the user id of a log line was read from the expired user after a commit, which
    opened a transaction; the outbox took it for the caller's and its job row was never saved."""
    from flask import g

    from app.core.logs import RequestIdFilter
    from app.extensions import db
    from app.models import User

    user_id = make_user(app, Role.CLIENT, email="after@example.fr")
    with app.test_request_context("/"):
        g._login_user = db.session.get(User, user_id)
        db.session.commit()  # expires the user
        record = logging.LogRecord("t", logging.WARNING, __file__, 1, "after commit", (), None)
        assert RequestIdFilter().filter(record)
        assert record.user_id == user_id
        assert not db.session().in_transaction()
        g._login_user = None
    with app.test_request_context("/"):
        record = logging.LogRecord("t", logging.WARNING, __file__, 1, "anonymous", (), None)
        RequestIdFilter().filter(record)
        assert record.user_id is None
