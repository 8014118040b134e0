"""Defect: with Redis stopped, login, messages, the marketplace and the API answered 500, and a
committed transition was reported as a failure. Redis is a helper: pages keep working on the
database, rate limits fall back to memory, and the signals and jobs that could not leave wait
in the outbox until Redis is back, then go out once. These tests stop and restart the suite's
own Redis process."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from redis import Redis

from app.extensions import db
from app.models import (
    ApprovalStatus,
    Dossier,
    DossierStatus,
    Email,
    Message,
    Notification,
    OutboxEntry,
    Product,
    Role,
)
from tests.factories import login, make_user, post

ROOT = Path(__file__).resolve().parents[2]


class RedisProcess:
    """The suite's Redis: stopped and started again on the same port, with the same files."""

    def __init__(self, url: str):
        self.port = urlsplit(url).port
        conn = Redis(port=self.port)
        self.pidfile = conn.config_get("pidfile")["pidfile"]
        self.logfile = conn.config_get("logfile")["logfile"]
        self.dir = conn.config_get("dir")["dir"]
        conn.close()

    def ping(self) -> bool:
        try:
            return Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except Exception:
            return False

    def stop(self) -> None:
        try:
            Redis(port=self.port).shutdown(nosave=True)
        except Exception:  # the connection drops as it stops
            pass
        for _ in range(100):
            if not self.ping():
                return
            time.sleep(0.05)
        raise RuntimeError("redis did not stop")

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--daemonize", "yes", "--dir", self.dir]
        if self.pidfile:
            args += ["--pidfile", self.pidfile]
        if self.logfile:
            args += ["--logfile", self.logfile]
        subprocess.run(args, check=True)
        for _ in range(100):
            if self.ping():
                return
            time.sleep(0.05)
        raise RuntimeError("redis did not start")


@pytest.fixture
def redis_process(app):
    process = RedisProcess(app.config["REDIS_URL"])
    yield process
    if not process.ping():
        process.start()


@pytest.fixture
def world(app):
    client_id = make_user(app, Role.CLIENT, email="cli@example.fr")
    expert_id = make_user(
        app, Role.EXPERT, email="exp@example.fr", approval_status=ApprovalStatus.APPROVED
    )
    with app.app_context():
        product = db.session.scalar(db.select(Product).where(Product.code == "TICPE"))
        dossier = Dossier(
            client_id=client_id,
            product_id=product.id,
            expert_id=expert_id,
            status=DossierStatus.AUDIT_COMPLETED,
            final_cents=900_000,
        )
        db.session.add(dossier)
        db.session.commit()
        return {"dossier": dossier.id, "client": client_id, "expert": expert_id}


class Listener:
    """Counts the realtime signals published on the suite's channel."""

    def __init__(self, app):
        self.messages: list[dict] = []
        self.pubsub = Redis.from_url(app.config["REDIS_URL"]).pubsub()
        self.pubsub.subscribe(app.config["SOCKETIO_CHANNEL"])
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            message = self.pubsub.get_message(timeout=0.1)
            if message and message["type"] == "message":
                self.messages.append(json.loads(message["data"]))

    def stop(self):
        self.running = False
        self.thread.join(2)
        self.pubsub.close()

    def signals(self) -> list[str]:
        """Each signal as its JSON (event and ids)."""
        found = []
        for m in self.messages:
            if m.get("method") == "emit":
                data = m["data"][0] if isinstance(m["data"], list) else m["data"]
                found.append(json.dumps(data, sort_keys=True))
        return found


def test_with_redis_stopped_nothing_fails_and_everything_goes_out_once_after(
    app, client, world, redis_process, run_jobs, smtp
):
    redis_process.stop()
    answers = {}

    def visit(name, resp):
        answers[name] = resp.status_code

    visit("login", login(client, "cli@example.fr"))
    for path in ("/", "/dossiers/", f"/dossiers/{world['dossier']}", "/experts/", "/messages/"):
        visit(path, client.get(path))
    visit("readyz", client.get("/readyz"))
    visit("healthz", client.get("/healthz"))
    visit("api", client.post("/api/v1/simulations", json={"answers": {}}))
    thread = client.get(f"/messages/dossier/{world['dossier']}")
    thread_url = thread.headers.get("Location") or f"/messages/dossier/{world['dossier']}"
    visit("thread", client.get(thread_url))
    visit("post", post(client, thread_url, {"body": "Message écrit pendant la panne"}))
    visit(
        "transition",
        post(client, f"/dossiers/{world['dossier']}/actions/reject_audit", {"reason": "Trop bas"}),
    )
    assert {k: v for k, v in answers.items() if v >= 500 and k != "readyz"} == {}
    assert answers["readyz"] == 503 and answers["healthz"] == 200
    assert answers["post"] == 303 and answers["transition"] == 303
    with app.app_context():
        assert db.session.scalar(db.select(Message.id).where(Message.body.like("%panne%")))
        dossier = db.session.get(Dossier, world["dossier"])
        assert dossier.status == DossierStatus.AUDIT_REJECTED_BY_CLIENT  # nothing lost
        kinds = list(db.session.scalars(db.select(OutboxEntry.kind)))
        assert "job" in kinds and "signal" in kinds

    redis_process.start()
    listener = Listener(app)
    time.sleep(0.2)
    with app.app_context():
        from app.core.jobs import enqueue

        enqueue("high", "app.core.jobs.flush_outbox")  # what the cron process does
    run_jobs()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxEntry.id))) == 0
        # the transition's announcement ran: the expert is told, in the app and by email
        expert_notes = list(
            db.session.scalars(
                db.select(Notification.type).where(Notification.user_id == world["expert"])
            )
        )
        assert expert_notes, "the announcement job never ran"
        sent = list(db.session.scalars(db.select(Email.recipient)))
    time.sleep(0.3)
    signals = listener.signals()
    # the post's and the transition's signals went out after Redis came back, each once (the
    # announcement then adds its own system message and notifications)
    events = [json.loads(s)["event"] for s in signals]
    assert "message:new" in events and "dossier:changed" in events, events
    assert len(set(signals)) == len(signals), signals
    # once: flushing again sends nothing more
    before = len(listener.messages)
    with app.app_context():
        from app.core import outbox

        assert outbox.flush() == 0
    run_jobs()
    time.sleep(0.2)
    assert len(listener.messages) == before
    listener.stop()
    assert len(smtp.messages) == len([r for r in sent if r])
    assert len({m["Message-ID"] for m in smtp.messages}) == len(smtp.messages)


def _subprocess(log_path, *args):
    log = open(log_path, "w")
    return subprocess.Popen(
        [sys.executable, "-m", "app.worker", *args],
        cwd=ROOT,
        env=dict(os.environ, LOG_LEVEL="INFO"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_the_cron_process_and_the_workers_scheduler_resume_after_an_outage(
    app, redis_process, tmp_path
):
    from app.worker import SCHEDULER_CHECK_SECONDS

    conn = Redis.from_url(app.config["REDIS_URL"])
    cron = _subprocess(tmp_path / "cron.log", "cron")
    worker = _subprocess(tmp_path / "worker.log", "high", "default")
    try:
        # the cron process enqueues the outbox flush at once, and the worker runs it
        flushed = _wait(lambda: conn.exists("rq:finished:high") or conn.llen("rq:queue:high"), 30)
        assert flushed, {p.name: p.read_text()[-3000:] for p in tmp_path.glob("*.log")}
        redis_process.stop()
        time.sleep(3)  # both lose Redis; neither may exit
        logs = {p.name: p.read_text()[-3000:] for p in tmp_path.glob("*.log")}
        assert cron.poll() is None and worker.poll() is None, logs
        redis_process.start()
        conn = Redis.from_url(app.config["REDIS_URL"])
        # the cron process comes back: its interval job is enqueued again at once
        assert _wait(lambda: conn.exists("rq:finished:high") or conn.llen("rq:queue:high"), 20)
        # the worker's scheduler comes back: a job scheduled for 1 s later runs
        with app.app_context():
            from datetime import timedelta

            from app.core.jobs import enqueue
            from app.models import utcnow

            enqueue(
                "high",
                "app.core.jobs.flush_outbox",
                at=utcnow() + timedelta(seconds=1),
                job_id="after-the-outage",
            )
        assert _wait(
            lambda: conn.zscore("rq:finished:high", "after-the-outage") is not None,
            SCHEDULER_CHECK_SECONDS + 15,
        )
    finally:
        for proc in (cron, worker):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
