"""RQ queues and the one enqueue helper. Jobs are named by dotted path, take ids, are idempotent."""

from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue
from rq.exceptions import DuplicateJobError


def init_app(app: Flask) -> None:
    connection = Redis.from_url(app.config["REDIS_URL"])
    app.extensions["redis"] = connection
    app.extensions["rq"] = {
        name: Queue(
            name,
            connection=connection,
            default_timeout=timeout,
            is_async=app.config["RQ_ASYNC"],
        )
        for name, timeout in app.config["RQ_QUEUES"].items()
    }


def redis() -> Redis:
    return current_app.extensions["redis"]


def queue(name: str) -> Queue:
    return current_app.extensions["rq"][name]


def public_context():
    """A request context on PUBLIC_URL, for jobs and commands whose notifications and emails
    carry links (a worker has no request of its own)."""
    return current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"])


def enqueue(queue_name: str, func: str, *args: Any, **options: Any):
    """Enqueue `func` (a dotted path, so the web process never imports task modules).

    Callers commit first: the worker must find the rows the job is about.
    """
    target = queue(queue_name)
    try:
        if not target.is_async:  # runs the job here and now: nothing to batch
            return target.enqueue(func, *args, **options)
        # RQ registers the queue, then saves and pushes the job: two round trips on its own,
        # one in a single pipeline (the actor of a transition waits for it)
        with redis().pipeline() as pipe:
            job = target.enqueue(func, *args, pipeline=pipe, **options)
            pipe.execute()
        return job
    except DuplicateJobError:  # unique job ids make a second enqueue a no-op
        return None
