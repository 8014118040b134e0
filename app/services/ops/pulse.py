"""The live metrics as numbers (A12): what alert rules compare and LivePulse draws.

`Pulse` keeps the last few minutes of cumulative counters (read from every process's
Prometheus files) and turns them into rates over a window: requests per minute, error rate,
p95 latency. Queue ages, the scheduler's silence and the disk come from Redis and the file
system at each reading; the SMTP state from the latest health round.
"""

from __future__ import annotations

import time
from collections import deque
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from rq import Queue

from app.core import metrics
from app.core.jobs import redis
from app.core.outbox import REDIS_ERRORS
from app.extensions import db
from app.models import HealthCheck, HealthState, PulseSample, utcnow
from app.services.ops import backups, health

WINDOW_S = 300  # rates are over the last five minutes
MIN_REQUESTS = 20  # an error rate over fewer requests than this says nothing: 0
KEEP_HOURS = 24

# what a rule may watch, with its unit; LivePulse draws the first six
METRICS = {
    "requests_per_min": (_l("Requests per minute"), ""),
    "p95_ms": (_l("Slowest 5 percent of requests (ms)"), "ms"),
    "error_rate": (_l("Error rate (%)"), "%"),
    "sockets": (_l("Connected sockets"), ""),
    "queue_depth": (_l("Jobs waiting"), ""),
    "queue_age_s": (_l("Oldest waiting job (s)"), "s"),
    "jobs_failed_per_min": (_l("Failed jobs per minute"), ""),
    "emails_failed_per_min": (_l("Failed emails per minute"), ""),
    "scheduler_silent_s": (_l("Scheduler silent for (s)"), "s"),
    "smtp_down": (_l("SMTP failing (1 = yes)"), ""),
    "disk_percent": (_l("Disk used (%)"), "%"),
    "components_down": (_l("Components down"), ""),
    "backup_age_h": (_l("Age of the latest verified backup (h)"), "h"),
}
DRAWN = (
    "requests_per_min",
    "p95_ms",
    "error_rate",
    "sockets",
    "queue_depth",
    "jobs_failed_per_min",
)


def metric_label(name: str) -> str:
    return str(METRICS[name][0]) if name in METRICS else name


def counters() -> dict:
    """Every process's cumulative counts, summed."""
    totals = {"requests": 0.0, "errors": 0.0, "sockets": 0.0, "jobs_failed": 0.0}
    totals["emails_failed"] = 0.0
    buckets: dict[float, float] = {}
    for family in metrics.registry().collect():
        for sample in family.samples:
            name = sample.name
            if name == "ft_http_request_duration_seconds_count":
                totals["requests"] += sample.value
            elif name == "ft_http_request_duration_seconds_bucket":
                le = float(sample.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + sample.value
            elif name == "ft_http_errors_total":
                totals["errors"] += sample.value
            elif name == "ft_sockets_connected":
                totals["sockets"] += sample.value
            elif name == "ft_jobs_failed_total":
                totals["jobs_failed"] += sample.value
            elif name == "ft_emails_total" and sample.labels.get("outcome") == "failed":
                totals["emails_failed"] += sample.value
    totals["buckets"] = buckets
    return totals


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """Prometheus's histogram_quantile over cumulative buckets {le: count} (seconds)."""
    if not buckets:
        return None
    edges = sorted(buckets)
    total = buckets[edges[-1]]
    if total <= 0:
        return None
    rank = q * total
    lower_edge, lower_count = 0.0, 0.0
    for edge in edges:
        count = buckets[edge]
        if count >= rank:
            if edge == float("inf"):
                return lower_edge
            span = count - lower_count
            share = (rank - lower_count) / span if span else 0
            return lower_edge + (edge - lower_edge) * share
        lower_edge, lower_count = edge, count
    return lower_edge


class Pulse:
    """One reader's memory of the counters, so rates can be taken over WINDOW_S."""

    def __init__(self) -> None:
        self.history: deque[tuple[float, dict]] = deque()

    def _baseline(self, now: float, seconds: float) -> tuple[float, dict] | None:
        older = [(t, c) for t, c in self.history if now - t >= seconds]
        return older[-1] if older else (self.history[0] if self.history else None)

    def read(self, smtp_down: bool | None = None) -> dict:
        now = time.monotonic()
        current = counters()
        minute = self._baseline(now, 60)
        window = self._baseline(now, WINDOW_S)
        self.history.append((now, current))
        while self.history and now - self.history[0][0] > WINDOW_S + 60:
            self.history.popleft()
        values = {"sockets": current["sockets"]}
        values.update(_rates(current, minute, window, now))
        try:
            values.update(_queues())
            silence = health.scheduler_silence()
            values["scheduler_silent_s"] = silence if silence is not None else 1e9
        except REDIS_ERRORS:
            pass  # Redis is away: these are unknown (the redis component says why)
        values["disk_percent"] = round(health.disk_percent(current_app.config["STORAGE_DIR"]), 1)
        if smtp_down is None:
            smtp_down = latest_state("smtp") == HealthState.DOWN
        values["smtp_down"] = 1.0 if smtp_down else 0.0
        values["components_down"] = float(
            db.session.scalar(
                db.select(db.func.count()).where(
                    HealthCheck.at == db.select(db.func.max(HealthCheck.at)).scalar_subquery(),
                    HealthCheck.state == HealthState.DOWN,
                )
            )
            or 0
        )
        db.session.rollback()
        age = backups.latest_age_hours()
        if age is not None:  # no backup ever made: nothing to compare (the README says so)
            values["backup_age_h"] = round(age, 2)
        return values


def _delta(current: dict, base: tuple[float, dict] | None, key: str) -> float:
    return max(0.0, current[key] - (base[1][key] if base else 0.0))


def _rates(current: dict, minute, window, now: float) -> dict:
    per_min = 60 / max(1.0, now - minute[0]) if minute else 0.0
    requests_window = _delta(current, window, "requests")
    errors_window = _delta(current, window, "errors")
    base_buckets = window[1]["buckets"] if window else {}
    buckets = {le: n - base_buckets.get(le, 0.0) for le, n in current["buckets"].items()}
    p95 = quantile(0.95, buckets)
    return {
        "requests_per_min": round(_delta(current, minute, "requests") * per_min, 1),
        "error_rate": (
            round(errors_window / requests_window * 100, 2)
            if requests_window >= MIN_REQUESTS
            else 0.0
        ),
        "p95_ms": round(p95 * 1000, 1) if p95 is not None else 0.0,
        "jobs_failed_per_min": round(_delta(current, minute, "jobs_failed") * per_min, 1),
        "emails_failed_per_min": round(_delta(current, minute, "emails_failed") * per_min, 1),
    }


def _queues() -> dict:
    conn = redis()
    depth, age = 0, 0.0
    for name in current_app.config["RQ_QUEUES"]:
        queue = Queue(name, connection=conn)
        depth += queue.count
        age = max(age, health.oldest_age(queue))
    return {"queue_depth": float(depth), "queue_age_s": round(age, 1)}


def latest_state(component: str) -> HealthState | None:
    return db.session.scalar(
        db.select(HealthCheck.state)
        .where(HealthCheck.component == component)
        .order_by(HealthCheck.at.desc())
        .limit(1)
    )


def store(values: dict) -> None:
    db.session.add(PulseSample(values=values))
    db.session.commit()


def purge() -> int:
    horizon = utcnow() - timedelta(hours=KEEP_HOURS)
    gone = db.session.execute(db.delete(PulseSample).where(PulseSample.at < horizon)).rowcount
    db.session.commit()
    return gone


def recent(minutes: int = 60) -> list[PulseSample]:
    since = utcnow() - timedelta(minutes=minutes)
    return db.session.scalars(
        db.select(PulseSample).where(PulseSample.at >= since).order_by(PulseSample.at)
    ).all()
