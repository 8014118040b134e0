"""`python -m app.worker high default` (or `exports`): an RQ worker with the app preloaded.

The `high` and `default` queues carry many small jobs (announcements, emails, pushes): they run
in this process, one after the other, so the compiled SQL, templates and catalogues stay warm
(a forked work horse builds them again for every job and loses them: about 110 ms instead of
17 ms for a transition's announcement). Each job gets a fresh database session. The `exports`
queue keeps a forked horse per job: large workbooks and PDFs give their memory back when it exits.
"""

import os
import sys

from rq import SimpleWorker, Worker
from sqlalchemy.orm import configure_mappers

from app import create_app
from app.extensions import db

FORKED_QUEUES = {"exports"}


class InProcessWorker(SimpleWorker):
    def execute_job(self, job, queue):
        try:
            super().execute_job(job, queue)
        finally:
            db.session.remove()  # no object loaded by one job is seen by the next


def main(queues: list[str]) -> None:
    app = create_app()
    os.nice(app.config["WORKER_NICE"])
    with app.app_context():  # forked work horses inherit the context
        configure_mappers()
        db.engine.dispose()  # no database socket may cross a fork
        kind = Worker if FORKED_QUEUES & set(queues) else InProcessWorker
        worker = kind(queues, connection=app.extensions["redis"])
        # Retry intervals need the scheduler; rq logs three lines per job at INFO
        worker.work(with_scheduler=True, logging_level=app.config["LOG_LEVEL"])


if __name__ == "__main__":  # required with with_scheduler=True
    main(sys.argv[1:] or ["high", "default"])
