"""Engine settings that are not schema: SQLite pragmas (WAL, foreign keys)."""

from pathlib import Path

from flask import Flask
from sqlalchemy import event


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_app(app: Flask) -> None:
    from app.extensions import db

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            if engine.url.database and engine.url.database != ":memory:":
                Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
