"""Backups and restore (A12), on the suite's real database (PostgreSQL with pg_dump and
pg_restore, or SQLite's backup API): a backup is verified by a restore into a scratch
database, restores what was there, refuses a damaged file, and is rotated."""

import json
from pathlib import Path

import pytest

from app.core import storage
from app.extensions import db
from app.models import Notification, Role, User
from app.services.ops import backups, jobs
from tests.factories import make_user


def test_a_backup_restores_the_database_and_the_files_as_they_were(app):
    kept_id = make_user(app, Role.CLIENT, email="kept@example.fr")
    with app.app_context():
        key = storage.save("documents", b"%PDF-1.4 the client's invoice", "pdf")
        folder = backups.create()
        data = backups.manifest(folder)
        assert data["counts"]["users"] == 1 and data["files"] >= 1
        assert data["revision"] and data["verified_at"] is None
        verified = backups.verify(folder)
        assert verified["verified_at"] and backups.manifest(folder)["verified_at"]
        # life goes on: the account goes, another comes, the file is lost
        db.session.delete(db.session.get(User, kept_id))
        db.session.commit()
        storage.delete(key)
    make_user(app, Role.CLIENT, email="later@example.fr")
    with app.app_context():
        done = backups.restore(backups.find("latest"))
        assert done["rows"] == sum(data["counts"].values())
        emails = set(db.session.scalars(db.select(User.email)))
        assert emails == {"kept@example.fr"}
        assert storage.read(key) == b"%PDF-1.4 the client's invoice"
    make_user(app, Role.CLIENT, email="after-restore@example.fr")  # the database works on


def test_a_damaged_backup_is_refused_and_nothing_is_restored(app):
    make_user(app, Role.CLIENT, email="before-damage@example.fr")
    with app.app_context():
        folder = backups.create()
        database = folder / backups.manifest(folder)["database"]
        raw = bytearray(database.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        database.write_bytes(bytes(raw))
        with pytest.raises(backups.BackupError, match="checksum"):
            backups.verify(folder)
        with pytest.raises(backups.BackupError, match="checksum"):
            backups.restore(folder)
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1


def test_rotation_keeps_the_newest_and_the_cli_makes_verifies_and_lists(app):
    runner = app.test_cli_runner()
    with app.app_context():
        for folder in backups.all_backups():
            __import__("shutil").rmtree(folder)
        app.config["BACKUP_KEEP"] = 2
        try:
            for _ in range(3):
                result = runner.invoke(args=["ops", "backup"])
                assert result.exit_code == 0, result.output
                assert "verified:" in result.output
            assert "rotated out" in result.output
            assert len(backups.all_backups()) == 2
            listing = runner.invoke(args=["ops", "backups"]).output
            assert listing.count("verified 20") == 2
            assert runner.invoke(args=["ops", "verify"]).exit_code == 0
            refused = runner.invoke(args=["ops", "restore", "no-such-backup", "--yes"])
            assert refused.exit_code != 0 and "not a backup folder" in str(refused.exception)
            restored = runner.invoke(args=["ops", "restore", "--yes"])
            assert restored.exit_code == 0 and "restored" in restored.output
        finally:
            app.config["BACKUP_KEEP"] = 14


def test_a_failed_nightly_backup_tells_the_admins(app, tmp_path):
    make_user(app, Role.ADMIN, email="backup-admin@example.fr")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the backups should go")
    saved = app.config["BACKUP_DIR"]
    app.config["BACKUP_DIR"] = str(blocker / "backups")
    try:
        with app.app_context(), pytest.raises(OSError):
            jobs.nightly_backup()
    finally:
        app.config["BACKUP_DIR"] = saved
    with app.app_context():
        [note] = db.session.scalars(db.select(Notification)).all()
        assert note.type == "service_backup_failed" and "sauvegarde" in note.title.lower()
        assert jobs.nightly_backup()  # and with its folder back, it works
        assert json.loads(
            (Path(saved) / backups.all_backups()[0].name / "manifest.json").read_text()
        )
