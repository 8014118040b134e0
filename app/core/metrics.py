"""Prometheus metrics (A12), counted by every process and read at `/metrics`.

Under gunicorn or beside RQ workers each process counts in its own files in
PROMETHEUS_MULTIPROC_DIR (prometheus-client's multi-process mode, set before the first import
of prometheus_client: `wsgi.py`, `app.worker` and the test suite do), and `/metrics` sums them.
Without that variable the counts are the process's own, which is all a single process needs.

Labels stay bounded: a route is its endpoint name (never the path with its ids), a status is
its number, a job is its queue.
"""

import os
import time

from flask import Flask, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

REQUEST_SECONDS = Histogram(
    "ft_http_request_duration_seconds",
    "Time to answer a request, per route and status.",
    ["route", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ERRORS = Counter("ft_http_errors_total", "Requests answered with a 5xx, per route.", ["route"])
SOCKETS = Gauge(
    "ft_sockets_connected", "Socket.IO connections open now.", multiprocess_mode="livesum"
)
EMITTED = Counter("ft_events_emitted_total", "Realtime signals published, per event.", ["event"])
JOB_SECONDS = Histogram(
    "ft_job_duration_seconds",
    "Time an RQ job ran, per queue.",
    ["queue"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0),
)
JOBS_FAILED = Counter("ft_jobs_failed_total", "RQ jobs that raised, per queue.", ["queue"])
EMAILS = Counter("ft_emails_total", "Emails handed to SMTP, by outcome.", ["outcome"])
BUSINESS = Counter(
    "ft_business_events_total",
    "Simulations completed, sign-ups, dossier transitions and payments received.",
    ["kind"],
)


def business(kind: str) -> None:
    """One simulation, signup, transition or payment: counted once its transaction commits."""
    from app.core.db import after_commit  # the database layer imports nothing of ours

    after_commit(lambda: BUSINESS.labels(kind).inc())


def registry() -> CollectorRegistry:
    if not MULTIPROCESS:
        from prometheus_client import REGISTRY

        return REGISTRY
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)
    return collected


def exposition() -> tuple[bytes, str]:
    return generate_latest(registry()), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    """gunicorn's child_exit: a dead worker's live gauges stop counting."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(pid)


class Job:
    """Times one RQ job into JOB_SECONDS; counts it in JOBS_FAILED if it raised or `failed`
    was set."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self.failed = False

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        JOB_SECONDS.labels(self.queue).observe(time.perf_counter() - self.started)
        if exc_type is not None or self.failed:
            JOBS_FAILED.labels(self.queue).inc()


def init_app(app: Flask) -> None:
    if not app.config["METRICS_ENABLED"]:
        return

    @app.after_request
    def _observe(resp):
        started = g.get("request_started")
        if started is None or request.path.startswith("/static/"):
            return resp
        route = request.endpoint or "unmatched"
        REQUEST_SECONDS.labels(route, str(resp.status_code)).observe(time.perf_counter() - started)
        if resp.status_code >= 500:
            ERRORS.labels(route).inc()
        return resp
