"""Engine settings that are not schema: SQLite pragmas (WAL, foreign keys), and how a pooled
PostgreSQL connection the server has dropped is noticed before a request uses it."""

from pathlib import Path

import psycopg
from flask import Flask
from sqlalchemy import event, exc

from app.extensions import db


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _drop_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:
    """On checkout, refuse a connection PostgreSQL has closed while it sat in the pool (a
    restart, `pg_terminate_backend`, an idle timeout), so the pool opens a fresh one.

    `pool_pre_ping` does the same with a `SELECT 1` round trip before every request. Here libpq
    reads whatever has already arrived on its (always non-blocking) socket, without waiting for
    the server: an idle connection has received nothing, and a server ending the session sends
    its error, then closes, which the second read meets. No `select()`: a realtime process holds
    more than 1 024 descriptors."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise exc.DisconnectionError()
    try:
        dbapi_connection.pgconn.consume_input()
        dbapi_connection.pgconn.consume_input()
    except psycopg.OperationalError:
        raise exc.DisconnectionError() from None  # the pool retries with a new connection


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            event.listen(engine, "checkout", _drop_if_closed_by_server)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            if engine.url.database and engine.url.database != ":memory:":
                Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
