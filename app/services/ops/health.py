"""Each component's health (A12): checked every HEALTH_SECONDS by the monitor, on demand from the
status page, and (the local ones) by `/readyz`. A check answers a state, its latency and one
line saying what it saw; the monitor keeps each round for the status page's 24 hours.

Network checks (SMTP, HTTP) run side by side with short timeouts, so one dead component does
not make the others look slow; they get plain values, not the app, as they run in threads.
"""

from __future__ import annotations

import shutil
import smtplib
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from rq import Queue, Worker
from rq.cron import CronScheduler

from app.core.jobs import redis
from app.extensions import db
from app.models import HealthCheck, HealthState, utcnow
from app.realtime import notify

LOCAL = ("database", "redis", "storage")  # what `/readyz` asks: this process's own needs
KEEP_HOURS = 24
STRIP_MINUTES = 30  # one cell of the status page's 24-hour strip

LABELS = {
    "web": _l("Web"),
    "realtime": _l("Real time (Socket.IO)"),
    "database": _l("Database"),
    "redis": _l("Redis"),
    "scheduler": _l("Scheduler (cron)"),
    "smtp": _l("Email (SMTP)"),
    "storage": _l("File storage"),
    "stripe": _l("Stripe"),
    "cmi": _l("CMI"),
}


def label(component: str) -> str:
    if component.startswith("queue:"):
        return str(_l("Queue “%(name)s”", name=component[6:]))
    return str(LABELS.get(component, component))


@dataclass
class Result:
    component: str
    state: HealthState
    latency_ms: float
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state in (HealthState.OK, HealthState.SKIPPED)


def _timed(component: str, probe) -> Result:
    began = time.perf_counter()
    try:
        state, detail = probe()
    except Exception as exc:  # a check reports what broke, it never raises
        state, detail = HealthState.DOWN, f"{type(exc).__name__}: {exc}"[:300]
    return Result(component, state, round((time.perf_counter() - began) * 1000, 2), detail)


# -- the probes ------------------------------------------------------------------------------


def _database():
    try:
        db.session.execute(db.text("SELECT 1"))
    finally:
        db.session.rollback()
    return HealthState.OK, ""


def _redis():
    redis().ping()
    return HealthState.OK, ""


def _storage(root: str, limit_percent: float):
    """Writable, and not fuller than the limit."""
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    probe = path / f".health-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"x" * 4096)
    finally:
        probe.unlink(missing_ok=True)
    usage = shutil.disk_usage(path)
    used = usage.used / usage.total * 100 if usage.total else 0.0
    detail = f"{used:.1f} % used, {usage.free // (1024 * 1024)} MB free"
    return (HealthState.DEGRADED if used >= limit_percent else HealthState.OK), detail


def disk_percent(root: str) -> float:
    usage = shutil.disk_usage(root)
    return usage.used / usage.total * 100 if usage.total else 0.0


def _queues(max_age_s: int) -> list[Result]:
    """Each queue: its depth, the age of its oldest waiting job, whether a worker serves it."""
    conn = redis()
    workers = Worker.all(connection=conn)
    results = []
    for name in current_app.config["RQ_QUEUES"]:

        def probe(name=name):
            queue = Queue(name, connection=conn)
            depth = queue.count
            age = oldest_age(queue)
            served = any(name in w.queue_names() for w in workers)
            detail = f"{depth} waiting, oldest {age:.0f} s, {'served' if served else 'no worker'}"
            if not served and depth:
                return HealthState.DOWN, detail
            if not served or age > max_age_s:
                return HealthState.DEGRADED, detail
            return HealthState.OK, detail

        results.append(_timed(f"queue:{name}", probe))
    return results


def oldest_age(queue: Queue) -> float:
    """Seconds the job at the head of `queue` has waited (0 when it is empty)."""
    ids = queue.get_job_ids(0, 1)
    if not ids:
        return 0.0
    job = queue.fetch_job(ids[0])
    if job is None or job.enqueued_at is None:
        return 0.0
    enqueued = job.enqueued_at.replace(tzinfo=job.enqueued_at.tzinfo or UTC)
    return max(0.0, (datetime.now(UTC) - enqueued).total_seconds())


def scheduler_silence() -> float | None:
    """Seconds since the cron process last said it was alive (None: it never did)."""
    beats = [s.last_heartbeat for s in CronScheduler.all(connection=redis())]
    beats = [b.replace(tzinfo=b.tzinfo or UTC) for b in beats if b is not None]
    if not beats:
        return None
    return max(0.0, (datetime.now(UTC) - max(beats)).total_seconds())


def _scheduler(limit_s: int):
    silence = scheduler_silence()
    if silence is None:
        return HealthState.DOWN, "no cron process has ever reported"
    detail = f"last heartbeat {silence:.0f} s ago"
    return (HealthState.DOWN if silence > limit_s else HealthState.OK), detail


def _smtp(host: str, port: int, timeout: float):
    with smtplib.SMTP(host, port, timeout=timeout) as smtp:
        code, _msg = smtp.noop()
    if code != 250:
        return HealthState.DOWN, f"NOOP answered {code}"
    return HealthState.OK, f"{host}:{port}"


def _http(url: str, timeout: float, expect: bytes | None = None):
    """Reachable means any HTTP answer (a 401 from a payment API is an answer), unless
    `expect` names what the body must start with."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status, body = resp.status, resp.read(256)
    except urllib.error.HTTPError as exc:
        if expect is not None:
            return HealthState.DOWN, f"HTTP {exc.code}"
        return HealthState.OK, f"HTTP {exc.code}"
    if expect is not None and not body.startswith(expect):
        return HealthState.DOWN, f"HTTP {status}, unexpected answer"
    return HealthState.OK, f"HTTP {status}"


def _network_probes(config) -> dict:
    timeout = config["HEALTH_TIMEOUT_S"]
    public = config["PUBLIC_URL"].rstrip("/")
    realtime = (config["REALTIME_HEALTH_URL"] or public).rstrip("/")
    probes = {
        "web": lambda: _http(f"{public}/healthz", timeout, b'{"status":"ok"}'),
        # the Engine.IO handshake (long-polling), as a phone without websockets opens it
        "realtime": lambda: _http(f"{realtime}/socket.io/?EIO=4&transport=polling", timeout, b"0{"),
        "smtp": lambda: _smtp(config["MAIL_SERVER"], config["MAIL_PORT"], timeout),
    }
    if config["STRIPE_SECRET_KEY"]:
        probes["stripe"] = lambda: _http(f"{config['STRIPE_API_BASE'].rstrip('/')}/", timeout)
    if config["CMI_CLIENT_ID"]:
        probes["cmi"] = lambda: _http(config["CMI_GATEWAY_URL"], timeout)
    return probes


def check_local() -> list[Result]:
    config = current_app.config
    return [
        _timed("database", _database),
        _timed("redis", _redis),
        _timed("storage", lambda: _storage(config["STORAGE_DIR"], config["HEALTH_DISK_PERCENT"])),
    ]


def check_all() -> list[Result]:
    """Every component, now."""
    config = current_app.config
    probes = _network_probes(config)
    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        remote = {name: pool.submit(_timed, name, probe) for name, probe in probes.items()}
        results = check_local()
        try:
            results += _queues(config["HEALTH_QUEUE_AGE_S"])
            results.append(
                _timed("scheduler", lambda: _scheduler(config["HEALTH_SCHEDULER_SILENT_S"]))
            )
        except Exception as exc:  # Redis is away: what needs it is down with it
            reason = f"{type(exc).__name__}: {exc}"[:300]
            names = [f"queue:{q}" for q in config["RQ_QUEUES"]] + ["scheduler"]
            results += [Result(n, HealthState.DOWN, 0.0, reason) for n in names]
        results += [future.result() for future in remote.values()]
    order = list(LABELS)
    return sorted(results, key=lambda r: order.index(r.component) if r.component in order else 3)


def record(results: list[Result]) -> None:
    """Keep one round for the history; staff pages refresh."""
    now = utcnow()
    db.session.add_all(
        HealthCheck(
            component=r.component,
            state=r.state,
            latency_ms=r.latency_ms,
            detail=r.detail,
            at=now,
            slot=slot_of(now),
            rank=RANK[r.state],
        )
        for r in results
    )
    db.session.commit()
    notify.to_admins("ops:health")


def run_round() -> list[Result]:
    results = check_all()
    record(results)
    return results


def purge(now: datetime | None = None) -> int:
    horizon = (now or utcnow()) - timedelta(hours=KEEP_HOURS + 1)
    gone = db.session.execute(db.delete(HealthCheck).where(HealthCheck.at < horizon)).rowcount
    db.session.commit()
    return gone


# -- what the status page reads --------------------------------------------------------------

RANK = {HealthState.SKIPPED: 0, HealthState.OK: 0, HealthState.DEGRADED: 1, HealthState.DOWN: 2}
BY_RANK = {0: HealthState.OK, 1: HealthState.DEGRADED, 2: HealthState.DOWN}


def slot_of(at: datetime) -> int:
    return int(at.timestamp()) // (STRIP_MINUTES * 60)


@dataclass
class Line:
    component: str
    label: str
    state: HealthState
    latency_ms: float
    detail: str
    at: datetime
    strip: list[HealthState | None]  # oldest first, one per STRIP_MINUTES; None: not checked
    uptime: float | None  # share of checks that were not down over 24 h


def status(now: datetime | None = None) -> list[Line]:
    """The latest round, each component with its 24 hours (one grouped query)."""
    now = now or utcnow()
    latest_at = db.session.scalar(db.select(db.func.max(HealthCheck.at)))
    if latest_at is None:
        return []
    latest = db.session.scalars(
        db.select(HealthCheck).where(HealthCheck.at == latest_at).order_by(HealthCheck.id)
    ).all()
    cells = KEEP_HOURS * 60 // STRIP_MINUTES
    first = slot_of(now) - cells + 1
    history: dict[str, list] = {r.component: [None] * cells for r in latest}
    checks: dict[str, list[int]] = {r.component: [0, 0] for r in latest}
    rows = db.session.execute(
        db.select(
            HealthCheck.component,
            HealthCheck.slot,
            db.func.max(HealthCheck.rank),
            db.func.count(),
            db.func.sum(db.case((HealthCheck.rank == 2, 1), else_=0)),
        )
        .where(HealthCheck.slot >= first)
        .group_by(HealthCheck.component, HealthCheck.slot)
    )
    for component, slot, worst, n, down in rows:
        if component in history and 0 <= slot - first < cells:
            history[component][slot - first] = BY_RANK[worst]
            checks[component][0] += n
            checks[component][1] += n - down
    return [
        Line(
            r.component,
            label(r.component),
            r.state,
            r.latency_ms,
            r.detail,
            r.at,
            history[r.component],
            checks[r.component][1] / checks[r.component][0] if checks[r.component][0] else None,
        )
        for r in latest
    ]
