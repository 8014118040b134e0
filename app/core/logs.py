"""JSON logs with a request id (taken from X-Request-ID when a proxy sets one) and the signed-in
user's id, on stdout and, when LOG_FILE is set, in a file rotated by size and every midnight
(one lock shared by every process writing it); errors to a Sentry-protocol tracker when
SENTRY_DSN is set (app/core/tracking.py).

Every request is logged at INFO with its time. One slower than `SLOW_REQUEST_MS` is logged as
a WARNING, with what it waited on: its SQL statements (count and time) and the garbage
collections of its process meanwhile (a collection stops every thread of the process). What
is left of its time was the request's own Python, or its process waiting for a CPU.
"""

import gc
import logging
import sys
import time
import uuid
from pathlib import Path

from flask import Flask, current_app, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = getattr(g, "request_id", None)
            record.user_id = _loaded_user_id(g.get("_login_user"))
        else:
            record.request_id = record.user_id = None
        return True


def _loaded_user_id(user) -> int | None:
    """The id of the user Flask-Login loaded for this request, read from the identity map: after
    a commit `user.id` is expired, and reading it would open a transaction for a log line (a
    transaction the outbox then took for the caller's, and its row was never committed)."""
    state = sa_inspect(user, raiseerr=False) if user is not None else None
    if state is None or state.identity is None:  # anonymous, or not a mapped object
        return None
    return state.identity[0]


def _json() -> JsonFormatter:
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
        rename_fields={"asctime": "ts", "levelname": "level"},
    )


def configure_logging(
    level: str, as_json: bool, path: str = "", max_mb: float = 50, backups: int = 14
) -> None:
    handler = logging.StreamHandler(sys.stdout)
    if as_json:
        handler.setFormatter(_json())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    handlers = [handler]
    if path:
        from concurrent_log_handler import ConcurrentTimedRotatingFileHandler

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        to_file = ConcurrentTimedRotatingFileHandler(
            path, when="midnight", backupCount=backups, maxBytes=int(max_mb * 1024 * 1024)
        )
        to_file.setFormatter(_json())  # files are for machines: always JSON
        handlers.append(to_file)
    for h in handlers:
        h.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in root.handlers:
        if old not in handlers:
            old.close()
    root.handlers[:] = handlers
    root.setLevel(level)


class _Collector:
    """This process's time in the garbage collector so far (ms)."""

    total_ms = 0.0
    _began = 0.0

    @classmethod
    def callback(cls, phase: str, _info: dict) -> None:
        if phase == "start":
            cls._began = time.perf_counter()
        else:
            cls.total_ms += (time.perf_counter() - cls._began) * 1000


def _sql_started(conn, _cursor, _statement, _params, _context, _executemany) -> None:
    conn.info["sql_started"] = time.perf_counter()  # a connection runs one at a time


def _sql_ended(conn, _cursor, _statement, _params, _context, _executemany) -> None:
    if has_request_context():
        took = (time.perf_counter() - conn.info["sql_started"]) * 1000
        g.sql_ms = g.get("sql_ms", 0.0) + took
        g.sql_count = g.get("sql_count", 0) + 1


def _watch_waits() -> None:
    """Once per process: every engine's statements and every collection are timed."""
    if _Collector.callback not in gc.callbacks:
        gc.callbacks.append(_Collector.callback)
    if not event.contains(Engine, "before_cursor_execute", _sql_started):
        event.listen(Engine, "before_cursor_execute", _sql_started)
        event.listen(Engine, "after_cursor_execute", _sql_ended)


def init_app(app: Flask) -> None:
    configure_logging(
        app.config["LOG_LEVEL"],
        app.config["LOG_JSON"],
        app.config["LOG_FILE"],
        app.config["LOG_MAX_MB"],
        app.config["LOG_BACKUPS"],
    )
    access = logging.getLogger("financialtracker.access")
    _watch_waits()

    @app.before_request
    def _request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming[:64] if incoming.isprintable() and incoming else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        g.gc_at_start = _Collector.total_ms

    @app.after_request
    def _log(resp):
        resp.headers["X-Request-ID"] = g.get("request_id", "")
        if request.path.startswith("/static/"):
            return resp
        elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        fields = {
            "method": request.method,
            "path": request.path,
            "status": resp.status_code,
            "ms": round(elapsed, 2),
        }
        if elapsed < current_app.config["SLOW_REQUEST_MS"]:
            access.info("request", extra=fields)
            return resp
        fields["sql_ms"] = round(g.get("sql_ms", 0.0), 2)
        fields["sql_statements"] = g.get("sql_count", 0)
        fields["gc_ms"] = round(_Collector.total_ms - g.get("gc_at_start", _Collector.total_ms), 2)
        # the sentence too: the plain (non-JSON) format of `make run` shows no extra fields
        access.warning(
            "slow request %(method)s %(path)s: %(ms).0f ms, SQL %(sql_ms).0f ms in "
            "%(sql_statements)d statements, GC %(gc_ms).0f ms",
            fields,
            extra=fields,
        )
        return resp
