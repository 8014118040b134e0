"""Operations jobs: the nightly backup (made, verified by a restore into a scratch database,
rotated). A failure is told to the admins in the app and raised, so RQ keeps it as failed."""

import logging

from flask_babel import lazy_gettext as _l

from app.models import Priority
from app.services import notifications
from app.services.ops import backups

log = logging.getLogger(__name__)


def nightly_backup() -> str:
    try:
        folder = backups.create()
        backups.verify(folder)
        backups.rotate()
    except Exception as exc:
        log.exception("nightly backup failed")
        notifications.notify_admins(
            "service_backup_failed",
            _l("Last night's backup failed"),
            f"{type(exc).__name__}: {exc}"[:500],
            priority=Priority.HIGH,
            object_ref=f"backup:{backups.today()}",
        )
        from app.extensions import db

        db.session.commit()
        raise
    return folder.name


def build_data_export(export_id: int) -> bool:
    from app.services.ops import privacy

    return privacy.build(export_id)


def purge_data_exports() -> int:
    from app.services.ops import privacy

    return privacy.purge_expired()
