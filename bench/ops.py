"""Operations measurements for `make bench` (issue 29 targets):

- what the metrics cost: the same pages on the web server of the bench and on a second one
  started here with METRICS_ENABLED=0 (same gunicorn configuration, same database), one user
  at a time, interleaved three times; the server's CPU per request compared;
- `/metrics` itself, one Prometheus server at a time (wrk -c1), summing every web worker's
  files in multi-process mode;
- an alert's way to the in-app channel: a real monitor process (`python -m app.worker
  monitor`), a rule "jobs waiting above 5 for 3 s", the workers suspended and 20 jobs queued;
  the time from the moment the condition has held for its 3 s to the moment the alert and its
  in-app notices are committed, five times.
"""

import os
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from bench import platform_app
from bench.dossiers import _http_as
from bench.simulator import lua_request

HOLD_S = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin() -> int:
    from app.extensions import db
    from app.models import Role, User

    with platform_app().app_context():
        return db.session.scalar(db.select(User.id).where(User.role == Role.ADMIN).limit(1))


def _server_without_metrics() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "METRICS_ENABLED": "0"}
    command = [".venv/bin/gunicorn", "--no-control-socket", "-k", "gthread", "-w", "4"]
    command += ["--threads", "8", "-b", f"127.0.0.1:{port}", "wsgi:app"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except requests.RequestException:  # not listening yet, or its workers still booting
            pass
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the server without metrics did not start")


def metrics_cost(app_url: str, wrk_script) -> dict:
    _, _, cookie = _http_as(app_url, _admin())
    cases = {
        "signed-in /help (admin)": ("/help", {"Cookie": cookie}),
        "login page (anonymous)": ("/login", {}),
    }
    proc, off_url = _server_without_metrics()
    results: dict = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, (path, headers) in cases.items():
                script = lua_request("GET", headers, None)
                for url in (app_url, off_url):  # every worker warm on both
                    for _ in range(8):
                        requests.get(f"{url}{path}", headers=headers)
                    wrk_script(f"{url}{path}", script, Path(tmp), users=1)
                runs = {"on": [], "off": []}
                for _ in range(3):
                    runs["on"].append(wrk_script(f"{app_url}{path}", script, Path(tmp), users=1))
                    runs["off"].append(wrk_script(f"{off_url}{path}", script, Path(tmp), users=1))
                results[name] = runs
            scrape = lua_request("GET", {}, None)
            wrk_script(f"{app_url}/metrics", scrape, Path(tmp), users=1)
            results["/metrics"] = wrk_script(f"{app_url}/metrics", scrape, Path(tmp), users=1)
    finally:
        proc.terminate()
        proc.wait(20)
    size = len(requests.get(f"{app_url}/metrics").content)
    print("\n## Operations: metrics on (the bench's web) and off (METRICS_ENABLED=0), wrk -c1, x3")
    for name, runs in results.items():
        if name == "/metrics":
            continue
        on = statistics.median(r["cpu_ms"] for r in runs["on"])
        off = statistics.median(r["cpu_ms"] for r in runs["off"])
        p95_on = statistics.median(r["p95"] for r in runs["on"])
        p95_off = statistics.median(r["p95"] for r in runs["off"])
        print(
            f"{name:28} CPU on {on:5.2f} ms/req, off {off:5.2f} ms/req: "
            f"{(on / off - 1) * 100:+5.1f} %   p95 on {p95_on:5.1f} ms, off {p95_off:5.1f} ms  "
            f"(each run: on {[round(r['cpu_ms'], 2) for r in runs['on']]}, "
            f"off {[round(r['cpu_ms'], 2) for r in runs['off']]})"
        )
    m = results["/metrics"]
    print(
        f"{'/metrics (wrk -c1)':28} p50 {m['p50']:5.1f} ms  p95 {m['p95']:5.1f} ms  "
        f"p99 {m['p99']:5.1f} ms  CPU {m['cpu_ms']:5.2f} ms/req, {size / 1024:.0f} KB"
    )
    return results


def metrics_in_process(blocks: int = 30, per_block: int = 200) -> dict:
    """The same comparison without the network, PostgreSQL's share or wrk on the CPUs: two apps
    in this process (metrics on, off), anonymous /help through the test client, in blocks that
    alternate which goes first; the medians of this process's CPU time per request. Then the
    hook alone: one labelled histogram observation, as every request makes."""
    from app.core import metrics
    from app.factory import create_app

    clients = {
        "on": create_app().test_client(),
        "off": create_app(METRICS_ENABLED=False).test_client(),
    }
    per_request: dict[str, list[float]] = {"on": [], "off": []}
    for client in clients.values():
        for _ in range(100):
            assert client.get("/help").status_code == 200
    for block in range(blocks):
        for name in ("on", "off") if block % 2 == 0 else ("off", "on"):
            started = time.process_time()
            for _ in range(per_block):
                clients[name].get("/help")
            per_request[name].append((time.process_time() - started) * 1000 / per_block)
    on, off = statistics.median(per_request["on"]), statistics.median(per_request["off"])
    started = time.process_time()
    for _ in range(100_000):
        metrics.REQUEST_SECONDS.labels("main.help", "200").observe(0.004)
    hook_us = (time.process_time() - started) * 1_000_000 / 100_000
    print(
        f"in process, anonymous /help, {blocks} blocks of {per_block}: median CPU on "
        f"{on:.3f} ms/req, off {off:.3f} ms/req ({(on / off - 1) * 100:+.1f} %); one labelled "
        f"histogram observation {hook_us:.1f} µs = {hook_us / 10 / off:.2f} % of a request "
        f"({'multi-process files' if metrics.MULTIPROCESS else 'in memory'})"
    )
    return {"on": on, "off": off, "hook_us": hook_us}


def alert_latency(rounds: int = 5) -> list[float]:
    from redis import Redis
    from rq import Queue
    from rq.suspension import resume, suspend

    from app.extensions import db
    from app.models import (
        ACTIVE_ALERT_STATES,
        AlertRule,
        Comparison,
        Notification,
        ServiceAlert,
        Severity,
    )

    app = platform_app()
    redis = Redis.from_url(os.environ["REDIS_URL"])
    with app.app_context():
        rule = AlertRule(
            name="bench: jobs waiting",
            metric="queue_depth",
            comparison=Comparison.ABOVE,
            threshold=5,
            duration_s=HOLD_S,
            severity=Severity.WARNING,
            channels=["inapp"],
        )
        db.session.add(rule)
        db.session.commit()
        rule_id = rule.id
    env = {**os.environ, "MONITOR_TICK_S": "1"}
    log = open(Path(os.environ.get("BENCH_WORK", "/tmp")) / "monitor.log", "w")
    monitor = subprocess.Popen(
        [".venv/bin/python", "-m", "app.worker", "monitor"], env=env, stdout=log, stderr=log
    )
    queue = Queue("default", connection=redis)
    delays = []
    try:
        time.sleep(3)  # the monitor's first tick
        for _ in range(rounds):
            suspend(redis)
            time.sleep(1.5)  # a worker in its blocking wait takes one job before it notices
            with redis.pipeline() as pipe:
                for _ in range(20):
                    queue.enqueue("app.services.ops.jobs.purge_data_exports", pipeline=pipe)
                pipe.execute()
            held = time.time() + HOLD_S  # the condition has held for its duration from here
            seen = None
            while time.time() < held + 15:
                with app.app_context():
                    alert = db.session.scalar(
                        db.select(ServiceAlert.id).where(
                            ServiceAlert.rule_id == rule_id,
                            ServiceAlert.state.in_(ACTIVE_ALERT_STATES),
                        )
                    )
                    told = alert and db.session.scalar(
                        db.select(db.func.count(Notification.id)).where(
                            Notification.object_ref == f"service_alert:{alert}"
                        )
                    )
                if told:
                    seen = time.time()
                    break
                time.sleep(0.02)
            resume(redis)
            if seen is None:
                raise RuntimeError(
                    f"the alert did not reach the in-app channel in 15 s (see {log.name})"
                )
            delays.append(seen - held)
            while queue.count:  # the workers drain; the monitor clears the alert
                time.sleep(0.2)
            time.sleep(2.5)
    finally:
        resume(redis)
        monitor.terminate()
        monitor.wait(20)
        with app.app_context():
            db.session.execute(db.delete(ServiceAlert).where(ServiceAlert.rule_id == rule_id))
            db.session.execute(db.delete(AlertRule).where(AlertRule.id == rule_id))
            db.session.commit()
    print(
        f"\n## Operations: an alert to the in-app channel, {rounds} times (a 1 s monitor tick): "
        f"{', '.join(f'{d:.2f}' for d in delays)} s after its condition had held {HOLD_S} s; "
        f"worst {max(delays):.2f} s"
    )
    return delays
