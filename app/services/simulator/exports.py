"""Exports of a simulation (Excel, Word, PDF): requested from the results page, built by the
`exports` worker, followed live through the Export row, kept EXPORT_LIFETIME_DAYS days."""

from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from rq import Retry
from rq.job import Job, JobStatus

from app.core import storage
from app.core.db import after_commit
from app.core.errors import NotFound, ValidationFailed
from app.core.jobs import enqueue, redis
from app.extensions import db
from app.models import (
    Export,
    ExportFormat,
    ExportStatus,
    Simulation,
    SimulationStatus,
    User,
    utcnow,
)
from app.realtime import notify
from app.security import can_download_export, require
from app.services.simulator import reports

JOB = "app.services.simulator.jobs.build_export"


def lifetime() -> timedelta:
    return timedelta(days=current_app.config["EXPORT_LIFETIME_DAYS"])


def request_export(sim: Simulation, fmt: str, locale: str) -> tuple[Export, bool]:
    """Queue one export (True); asking again for a format still being built returns that
    one (False), so a double click never builds the same file twice."""
    if sim.status != SimulationStatus.COMPLETED:
        raise ValidationFailed(_("Finish the simulation before exporting it."))
    try:
        fmt = ExportFormat(fmt)
    except ValueError:
        raise ValidationFailed(
            _("Choose Excel, Word or PDF."), format=_("Unknown format.")
        ) from None
    pending = db.session.scalar(
        db.select(Export).where(
            Export.simulation_id == sim.id,
            Export.format == fmt,
            Export.status.in_([ExportStatus.QUEUED, ExportStatus.RUNNING]),
        )
    )
    if pending is not None:
        return pending, False
    export = Export(simulation_id=sim.id, format=fmt, locale=locale)
    db.session.add(export)
    db.session.flush()
    export_id = export.id
    after_commit(lambda: _enqueue_build(export_id))
    db.session.commit()
    return export, True


def _job_id(export_id: int) -> str:
    return f"export-{export_id}"


def _enqueue_build(export_id: int) -> None:
    """A build killed mid-way (its work horse ran out of memory, the worker was restarted)
    is tried again EXPORT_RETRY_INTERVALS later, a limited number of times."""
    intervals = current_app.config["EXPORT_RETRY_INTERVALS"]
    retry = Retry(max=len(intervals), interval=intervals) if intervals else None
    enqueue("exports", JOB, export_id, job_id=_job_id(export_id), retry=retry)


def _progress(export: Export, percent: int, status: ExportStatus | None = None) -> None:
    export.progress = percent
    if status is not None:
        export.status = status
    if export.simulation.user_id is not None:  # visitors have no socket: they poll
        notify.to_user(export.simulation.user_id, "export:progress", export_id=export.id)
    db.session.commit()


def build(export_id: int) -> str:
    """The job: idempotent (a finished export is left alone; a retried one starts over)."""
    export = db.session.get(Export, export_id)
    if export is None or export.finished:
        return "skipped"
    export.started_at = utcnow()
    _progress(export, 10, ExportStatus.RUNNING)
    sim = export.simulation
    owner = db.session.get(User, sim.user_id) if sim.user_id else None
    try:
        with force_locale(export.locale):
            ctx = reports.context(sim, owner, utcnow())
            _progress(export, 40)
            data = reports.BUILDERS[str(export.format)](ctx)
    except Exception:
        current_app.logger.exception("export %s failed", export_id)
        export.error = "build failed"
        export.finished_at = utcnow()
        _progress(export, 100, ExportStatus.FAILED)
        return "failed"
    _progress(export, 80)
    export.storage_key = storage.save("exports", data, str(export.format))
    export.size = len(data)
    export.filename = (
        f"estimation-financialtracker-{sim.created_at:%Y%m%d}-{export.id}.{export.format}"
    )
    export.finished_at = utcnow()
    _progress(export, 100, ExportStatus.DONE)
    return "done"


def get_owned(export_id: int, user: User | None, session_tokens: list[str]) -> Export:

    export = db.session.get(Export, export_id)
    if export is None or export.created_at <= utcnow() - lifetime():
        raise NotFound()
    require(can_download_export(user, export, session_tokens))
    return export


def of_simulation(sim: Simulation) -> list[Export]:
    """The live exports of a simulation, newest first (the results page lists them)."""
    return list(
        db.session.scalars(
            db.select(Export)
            .where(Export.simulation_id == sim.id, Export.created_at > utcnow() - lifetime())
            .order_by(Export.id.desc())
            .limit(10)
        )
    )


STALLED_AFTER = timedelta(minutes=10)  # an export takes seconds; its job timeout is 15 min
# what RQ says of a job that will not run again
GIVEN_UP = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


def fail_stalled(batch: int = 500) -> int:
    """Exports that will never finish are marked failed, so their page stops polling and
    offers to try again (cron sweep, every minute): those whose job RQ gave up on (its last
    retry was killed too) or lost, and any still unfinished after 10 minutes."""
    unfinished = db.session.scalars(
        db.select(Export)
        .where(Export.status.in_([ExportStatus.QUEUED, ExportStatus.RUNNING]))
        .order_by(Export.id)
        .limit(batch)
    ).all()
    if not unfinished:
        return 0
    jobs = Job.fetch_many([_job_id(e.id) for e in unfinished], connection=redis())
    now, failed = utcnow(), 0
    for export, job in zip(unfinished, jobs, strict=True):
        too_old = export.created_at <= now - STALLED_AFTER
        given_up = job is None or job.get_status(refresh=False) in GIVEN_UP
        # a job just enqueued may not be visible yet: give it a minute before calling it lost
        if too_old or (given_up and export.created_at <= now - timedelta(minutes=1)):
            export.error = "stalled" if too_old else "abandoned"
            export.finished_at = now
            _progress(export, 100, ExportStatus.FAILED)
            failed += 1
    return failed


def purge_expired(batch: int = 500) -> int:
    """Delete exports older than their lifetime, file first (cron sweep)."""
    old = db.session.scalars(
        db.select(Export).where(Export.created_at <= utcnow() - lifetime()).limit(batch)
    ).all()
    for export in old:
        storage.delete(export.storage_key)
        db.session.delete(export)
    db.session.commit()
    return len(old)
