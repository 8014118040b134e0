"""`python -m app.worker high default`: an RQ worker with the app preloaded before each fork."""

import sys

from rq import Worker
from sqlalchemy.orm import configure_mappers

from app import create_app
from app.extensions import db


def main(queues: list[str]) -> None:
    app = create_app()
    with app.app_context():  # forked work horses inherit the context
        configure_mappers()
        db.engine.dispose()  # no database socket may cross the fork
        worker = Worker(queues, connection=app.extensions["redis"])
        worker.work(with_scheduler=True)  # Retry intervals need the scheduler


if __name__ == "__main__":  # required with with_scheduler=True
    main(sys.argv[1:] or ["high", "default"])
