"""RQ queues and the one enqueue helper. Jobs are named by dotted path, take ids, are idempotent.

Each feature keeps its jobs in its own `jobs.py` (`app.services.<feature>.jobs`): thin functions
that open what a worker lacks (a request context for links) and call the feature's use case.
`app/cron.py` says which of them run on a schedule."""

from datetime import datetime
from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError

from app.core import outbox


def init_app(app: Flask) -> None:
    connection = Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=app.config["REDIS_CONNECT_TIMEOUT"]
    )
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


def enqueue(queue_name: str, func: str, *args: Any, at: datetime | None = None, **options: Any):
    """Enqueue `func` (a dotted path, so the web process never imports task modules), or at
    `at` through the workers' scheduler. If Redis is away, the job waits in the outbox and is
    enqueued once it is back (its unique job id keeps it single).

    Callers commit first: the worker must find the rows the job is about.
    """
    try:
        return _enqueue(queue_name, func, args, at, options)
    except outbox.REDIS_ERRORS as exc:
        outbox.record("job", _job_payload(queue_name, func, args, at, options), exc)
        return None


def _enqueue(queue_name: str, func: str, args, at: datetime | None, options: dict):
    target = queue(queue_name)
    try:
        if at is not None:
            return target.enqueue_at(at, func, *args, **options)
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


def _job_payload(queue_name, func, args, at, options) -> dict:
    options = dict(options)
    retry = options.pop("retry", None)
    return {
        "queue": queue_name,
        "func": func,
        "args": list(args),
        "at": at.isoformat() if at else None,
        "retry": {"max": retry.max, "intervals": retry.intervals} if retry else None,
        "options": options,  # job ids, timeouts: plain values
    }


@outbox.replays("job")
def _replay_job(payload: dict) -> None:
    options = dict(payload["options"])
    if payload.get("retry"):
        options["retry"] = Retry(
            max=payload["retry"]["max"], interval=payload["retry"]["intervals"]
        )
    at = datetime.fromisoformat(payload["at"]) if payload.get("at") else None
    _enqueue(payload["queue"], payload["func"], payload["args"], at, options)


def flush_outbox() -> int:
    """Signals and jobs that waited for Redis go out, oldest first (app.core.outbox)."""

    with public_context():
        return outbox.flush()
