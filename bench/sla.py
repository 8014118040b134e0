"""SLA measurements for `make bench` (issue 25 targets), on the scale dataset and its clocks
(`app/seeds/scale_clocks.py`: one running clock per waiting dossier, already at its rung):

- the alert centre (an admin) and an expert's dashboard (the expert with the most alerts), one
  user at a time beside the bare hello, with the server's CPU per request as a ratio to it;
- a transition with its clock updates, and the same transition with the SLA policy switched
  off (no clock at all: the transition of before this issue), one user at a time;
- sweeps, each in a fresh process with its peak memory: right after seeding (what came due
  since), again at the same instant (nothing due), then as if the sweeper had been stopped for
  an hour and for a business day (the catch-up). Run last: they move the clocks on.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench import platform_app
from bench.dossiers import _http_as, _transition_entries, _transition_script, settle
from bench.simulator import lua_request

SWEEP = """
import json, resource, sys, time
from datetime import timedelta
from app.core import clock
from app.core.jobs import public_context
from app.factory import create_app
from app.services import sla
app = create_app()
with app.app_context(), public_context():
    at = clock.now() + timedelta(minutes=float(sys.argv[1]))
    with clock.frozen(at):
        started = time.perf_counter()
        result = sla.run(at, daily=False)
        seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"seconds": seconds, "rss_mb": rss, "line": result.line(),
                  "escalated": result.escalated}))
"""


def _sweep(minutes_ahead: float) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", SWEEP, str(minutes_ahead)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _people() -> tuple[int, int]:
    """An admin and the scale expert with the most open alerts."""
    from app.extensions import db
    from app.models import Alert, AlertStatus, Role, User

    app = platform_app()
    with app.app_context():
        admin = db.session.scalar(db.select(User.id).where(User.role == Role.ADMIN).limit(1))
        expert = db.session.scalar(
            db.select(Alert.responsible_id)
            .join(User, User.id == Alert.responsible_id)
            .where(Alert.status != AlertStatus.RESOLVED, User.role == Role.EXPERT)
            .group_by(Alert.responsible_id)
            .order_by(db.func.count().desc())
            .limit(1)
        )
        counts = db.session.execute(
            db.text(
                "select count(*) filter (where status in ('running','paused')), count(*) "
                "from sla_clocks"
            )
        ).one()
        alerts = db.session.scalar(
            db.text("select count(*) from alerts where status <> 'resolved'")
        )
    print(f"\n(scale clocks: {counts[0]} open of {counts[1]}; {alerts} open alerts)")
    return admin, expert


def _policy(active: bool) -> None:
    from app.extensions import db

    app = platform_app()
    with app.app_context():
        db.session.execute(db.text("update sla_policies set active = :a"), {"a": active})
        db.session.commit()


def requests_bench(app_url: str, hello_url: str, wrk_script) -> dict:
    admin, expert = _people()
    _, _, admin_cookie = _http_as(app_url, admin)
    _, _, expert_cookie = _http_as(app_url, expert)
    pages = {
        "alert centre (admin)": (f"{app_url}/admin/alerts", admin_cookie, 'id="alert-list"'),
        "expert dashboard": (f"{app_url}/dashboard", expert_cookie, 'id="my-alerts"'),
    }
    for name, (url, cookie, needle) in pages.items():
        resp = requests.get(url, headers={"Cookie": cookie})
        assert resp.status_code == 200 and needle in resp.text, (name, resp.status_code)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (url, cookie, _n) in pages.items():
            script = lua_request("GET", {"Cookie": cookie}, None)
            subprocess.run(["wrk", "-t1", "-c2", "-d2s", url], capture_output=True)  # warm
            hello = wrk_script(f"{hello_url}/", lua_request("GET", {}, None), Path(tmp), users=1)
            page = wrk_script(url, script, Path(tmp), users=1)
            results[name] = (page, hello)
        # transitions: with the clocks, then with the policy off (no clock is read or written)
        entries = _transition_entries(app_url, count=400)
        script = _transition_script(entries)
        for label, active in (("transition with clocks", True), ("transition, SLA off", False)):
            _policy(active)
            settle(label)
            hello = wrk_script(f"{hello_url}/", lua_request("GET", {}, None), Path(tmp), users=1)
            results[label] = (wrk_script(f"{app_url}/", script, Path(tmp), users=1), hello)
        _policy(True)
    print("\n## SLA: one user at a time (wrk -t1 -c1), scale dataset, hello in the same run")
    for name, (r, h) in results.items():
        print(
            f"{name:26} p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
            f"CPU {r['cpu_ms']:5.2f} ms/req = {r['cpu_ms'] / h['cpu_ms']:5.1f}x hello "
            f"({h['cpu_ms']:4.2f} ms)"
        )
    with_clocks, without = results["transition with clocks"][0], results["transition, SLA off"][0]
    print(
        f"transition cost with clocks: p95 {with_clocks['p95'] / without['p95']:4.2f}x, "
        f"CPU {with_clocks['cpu_ms'] / without['cpu_ms']:4.2f}x the transition without"
    )
    return results


def sweeps() -> dict:
    settle("the SLA requests")
    found = {}
    print("\n## SLA sweeps (fresh process each, peak resident memory)")
    for label, minutes in (
        ("first after seeding", 0),
        ("again, nothing due", 0),
        ("after an hour stopped", 60),
        ("after a day stopped", 24 * 60),
        ("after two weeks stopped", 14 * 24 * 60),  # every running clock climbs its ladder
    ):
        started = time.perf_counter()
        r = _sweep(minutes)
        found[label] = r
        print(
            f"{label:24} {r['seconds']:6.2f} s  {r['rss_mb']:4d} MB  "
            f"{r['escalated']:6d} rungs  ({r['line']}; "
            f"process {time.perf_counter() - started:.1f} s)"
        )
    return found
