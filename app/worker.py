"""`python -m app.worker high default` (or `exports`): an RQ worker with the app preloaded;
`python -m app.worker cron`: the cron process; `python -m app.worker monitor`: health, the
live pulse and the alert rules (app/services/ops/monitor.py).

The `high` and `default` queues carry many small jobs (announcements, emails, pushes): they run
in this process, one after the other, so the compiled SQL, templates and catalogues stay warm
(a forked work horse builds them again for every job and loses them: about 110 ms instead of
17 ms for a transition's announcement). Each job gets a fresh database session. The `exports`
queue keeps a forked horse per job: large workbooks and PDFs give their memory back when it exits.
"""

import logging
import os
import sys
import time

from rq import SimpleWorker, Worker
from rq import cron as rq_cron
from rq.cron import CronScheduler
from rq.exceptions import NoSuchJobError
from rq.job import JobStatus
from sqlalchemy.orm import configure_mappers

import app.cron  # noqa: F401  (registers the jobs)
from app.core import metrics
from app.core.outbox import REDIS_ERRORS
from app.extensions import db
from app.factory import create_app

FORKED_QUEUES = {"exports"}
# how soon a worker notices its scheduler died (a Redis outage kills it) and starts another;
# RQ itself looks only at its 10-minute maintenance, and sleeps on an idle queue for 6 minutes
SCHEDULER_CHECK_SECONDS = 15
log = logging.getLogger("app.worker")


class _KeepsItsScheduler:
    """A worker that restarts its scheduler within SCHEDULER_CHECK_SECONDS of losing it."""

    @property
    def dequeue_timeout(self) -> int:
        return min(super().dequeue_timeout, SCHEDULER_CHECK_SECONDS)

    @property
    def should_run_maintenance_tasks(self) -> bool:
        scheduler = self.scheduler
        if scheduler is not None and self.last_cleaned_at is not None:
            process = scheduler._process
            if process is None or not process.is_alive():
                return True  # run_maintenance_tasks starts it again
        return super().should_run_maintenance_tasks


class _Measured:
    """Each job's time and failure in the metrics, counted by the worker itself (a forked
    horse lives for one job: its own metric files would pile up)."""

    def execute_job(self, job, queue):
        with metrics.Job(queue.name) as timing:
            super().execute_job(job, queue)
            try:
                timing.failed = job.get_status(refresh=True) != JobStatus.FINISHED
            except NoSuchJobError:  # finished with no result kept
                timing.failed = False


class InProcessWorker(_Measured, _KeepsItsScheduler, SimpleWorker):
    def execute_job(self, job, queue):
        try:
            super().execute_job(job, queue)
        finally:
            db.session.remove()  # no object loaded by one job is seen by the next


class ForkingWorker(_Measured, _KeepsItsScheduler, Worker):
    pass


def run_cron(connection, retry_seconds: float = 2.0) -> None:
    """The cron process: RQ's CronScheduler (app.cron's registrations), started again whenever
    Redis drops it, instead of exiting (which would stop every sweep until someone noticed)."""
    definitions = list(rq_cron._job_data_registry)
    while True:
        scheduler = CronScheduler(connection=connection)
        for data in definitions:
            scheduler.register(**data)
        try:
            scheduler.start()
            return  # stopped on purpose (SIGTERM, Ctrl-C)
        except REDIS_ERRORS as exc:
            log.warning("cron lost Redis, starting again in %s s: %s", retry_seconds, exc)
            time.sleep(retry_seconds)


def main(queues: list[str]) -> None:
    app = create_app()
    os.nice(app.config["WORKER_NICE"])
    with app.app_context():  # forked work horses inherit the context
        configure_mappers()
        db.engine.dispose()  # no database socket may cross a fork
        if queues == ["cron"]:
            return run_cron(app.extensions["redis"])
        if queues == ["monitor"]:
            from app.services.ops import monitor

            return monitor.run()
        kind = ForkingWorker if FORKED_QUEUES & set(queues) else InProcessWorker
        while True:
            worker = None
            try:
                worker = kind(queues, connection=app.extensions["redis"])
                # Retry intervals need the scheduler; rq logs three lines per job at INFO
                worker.work(with_scheduler=True, logging_level=app.config["LOG_LEVEL"])
            except REDIS_ERRORS as exc:
                log.warning("worker lost Redis: %s", exc)
            if worker is not None and (worker._stop_requested or worker._shutdown_requested_date):
                return  # SIGTERM or Ctrl-C: stopping was asked for
            # RQ waits for Redis while it listens, but quits when it loses it while starting or
            # between jobs: a worker is started again instead of leaving its queues unserved
            log.warning("worker stopped without being asked to, starting again in 2 s")
            time.sleep(2)


if __name__ == "__main__":  # required with with_scheduler=True
    main(sys.argv[1:] or ["high", "default"])
