"""Backups and restore (A12): the database (pg_dump's custom format on PostgreSQL, SQLite's
online backup API otherwise) and the stored files, one folder per backup under BACKUP_DIR
with a manifest (row counts per table, checksums); kept by rotation; verified by restoring
into a scratch database and comparing the counts; restored by `flask ops restore`.

A backup folder is everything a fresh machine needs beside the code: copy BACKUP_DIR off the
machine (README "Operations").
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app.extensions import db

MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    pass


def _root() -> Path:
    root = Path(current_app.config["BACKUP_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def _libpq(url) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore read it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip()[:500]}")


def counts(url) -> dict[str, int]:
    """Rows per table of the database at `url` (the migrations' own table left out)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
            return {n: conn.exec_driver_sql(f'SELECT COUNT(*) FROM "{n}"').scalar() for n in names}
    finally:
        engine.dispose()


def _revision(url) -> str | None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except Exception:
        return None
    finally:
        engine.dispose()


# -- making one ------------------------------------------------------------------------------


def create() -> Path:
    """A new backup folder; returns its path."""
    url = db.engine.url
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = _root() / f"{stamp}-{secrets.token_hex(3)}"
    partial = folder.with_name(folder.name + ".partial")
    partial.mkdir()
    try:
        if url.get_backend_name() == "postgresql":
            database = partial / "db.dump"
            _run(
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-acl",
                "-f",
                str(database),
                _libpq(url),
            )
        else:
            database = partial / "db.sqlite3"
            source = sqlite3.connect(url.database)
            target = sqlite3.connect(database)
            with target:
                source.backup(target)  # a consistent copy while the platform keeps writing
            source.close()
            target.close()
        files = partial / "storage.tar.gz"
        storage = Path(current_app.config["STORAGE_DIR"])
        stored = 0
        with tarfile.open(files, "w:gz") as tar:
            if storage.is_dir():
                for path in sorted(storage.rglob("*")):
                    if path.is_file() and not path.name.startswith(".health-"):
                        tar.add(path, arcname=str(path.relative_to(storage)))
                        stored += 1
        manifest = {
            "created_at": datetime.now(UTC).isoformat(),
            "dialect": url.get_backend_name(),
            "revision": _revision(url),
            "database": database.name,
            "counts": counts(url),
            "files": stored,
            "sha256": {p.name: _sha256(p) for p in (database, files)},
            "bytes": {p.name: p.stat().st_size for p in (database, files)},
            "verified_at": None,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2))
        partial.rename(folder)  # a folder without ".partial" is a finished backup
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return folder


def all_backups() -> list[Path]:
    """Finished backups, newest first."""
    return sorted(
        (p for p in _root().iterdir() if p.is_dir() and (p / MANIFEST).is_file()),
        key=lambda p: p.name,
        reverse=True,
    )


def manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text())


def find(name: str) -> Path:
    """A backup by folder name, path, or "latest"."""
    if name == "latest":
        found = all_backups()
        if not found:
            raise BackupError("no backup in BACKUP_DIR yet")
        return found[0]
    folder = Path(name) if os.sep in name else _root() / name
    if not (folder / MANIFEST).is_file():
        raise BackupError(f"{name}: not a backup folder (no {MANIFEST})")
    return folder


def rotate(keep: int | None = None) -> list[str]:
    """Keep the newest `keep` backups (BACKUP_KEEP); unfinished ones older than a day go."""
    keep = keep if keep is not None else current_app.config["BACKUP_KEEP"]
    gone = []
    for folder in all_backups()[keep:]:
        shutil.rmtree(folder)
        gone.append(folder.name)
    for partial in _root().glob("*.partial"):
        if datetime.now(UTC).timestamp() - partial.stat().st_mtime > 86400:
            shutil.rmtree(partial, ignore_errors=True)
    return gone


# -- checking and restoring ------------------------------------------------------------------


def _check_files(folder: Path, data: dict) -> None:
    for name, digest in data["sha256"].items():
        if _sha256(folder / name) != digest:
            raise BackupError(f"{name} does not match its checksum: the backup is damaged")


def _load(folder: Path, data: dict, url) -> None:
    """Put the backup's database into the (empty or old) database at `url`."""
    url = make_url(url)
    source = folder / data["database"]
    if data["dialect"] == "postgresql":
        if url.get_backend_name() != "postgresql":
            raise BackupError("a PostgreSQL backup restores into PostgreSQL")
        _run(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-acl",
            "--single-transaction",
            "-d",
            _libpq(url),
            str(source),
        )
        return
    if url.get_backend_name() != "sqlite":
        raise BackupError("a SQLite backup restores into SQLite")
    with sqlite3.connect(source) as backup, sqlite3.connect(url.database) as target:
        backup.backup(target)


def _extract(folder: Path, target: Path) -> int:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / "storage.tar.gz", "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        tar.extractall(target, members=members, filter="data")
    return len(members)


def verify(folder: Path) -> dict:
    """Restore into a scratch database (and folder) and compare with the manifest; the
    manifest records when it was verified."""
    data = manifest(folder)
    _check_files(folder, data)
    with tempfile.TemporaryDirectory(prefix="ft-verify-") as scratch:
        if data["dialect"] == "postgresql":
            server = make_url(db.engine.url)
            name = f"ft_verify_{secrets.token_hex(4)}"
            admin = create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            try:
                url = server.set(database=name)
                _load(folder, data, url)
                restored = counts(url)
            finally:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()
        else:
            url = make_url(f"sqlite:///{scratch}/verify.db")
            _load(folder, data, url)
            restored = counts(url)
        files = _extract(folder, Path(scratch) / "storage")
    if restored != data["counts"]:
        wrong = sorted(
            k
            for k in set(restored) | set(data["counts"])
            if restored.get(k) != data["counts"].get(k)
        )
        raise BackupError(f"restored rows differ from the backup's in: {', '.join(wrong[:10])}")
    if files != data["files"]:
        raise BackupError(f"{files} files restored, the backup holds {data['files']}")
    data["verified_at"] = datetime.now(UTC).isoformat()
    (folder / MANIFEST).write_text(json.dumps(data, indent=2))
    return data


def restore(folder: Path) -> dict:
    """Bring this machine's database and stored files back to `folder`'s state. What is in
    the database now is replaced: a fresh machine, or a rollback."""
    data = manifest(folder)
    _check_files(folder, data)
    url = db.engine.url
    db.session.remove()
    db.engine.dispose()  # no pooled connection holds a table the restore replaces
    if url.get_backend_name() == "postgresql":
        # what a newer release added goes too: the database is the backup's, migrations and all
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        engine.dispose()
    _load(folder, data, url)
    storage = Path(current_app.config["STORAGE_DIR"])
    files = _extract(folder, storage)
    restored = counts(url)
    if restored != data["counts"]:
        raise BackupError("the restored database does not hold the backup's rows")
    return {"tables": len(restored), "rows": sum(restored.values()), "files": files}


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def latest_age_hours() -> float | None:
    """How old the newest verified backup is (None: there is none)."""
    for folder in all_backups():
        verified = manifest(folder).get("verified_at")
        if verified:
            at = datetime.fromisoformat(manifest(folder)["created_at"])
            return (datetime.now(UTC) - at).total_seconds() / 3600
    return None
