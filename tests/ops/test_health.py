"""Component health (A12) against the real parts: each check passes while its component works
and fails when it really stops (Redis on a closed port, SMTP refused, a small disk filled, the
workers and the cron process stopped); the status page and /readyz read the same checks."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.extensions import db
from app.factory import create_app
from app.models import HealthCheck, HealthState, Role
from app.services.ops import health
from tests.conftest import ROOT, free_port
from tests.factories import HX, login, make_user, post


def _states(results) -> dict:
    return {r.component: r.state for r in results}


def _start(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "app.worker", *args],
        cwd=ROOT,
        env=dict(os.environ, WORKER_NICE="0"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _until(app, component, wanted, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            state = _states(health.check_all())[component]
        if state == wanted or time.monotonic() > deadline:
            return state
        time.sleep(0.3)


def test_every_component_answers_while_the_platform_runs(
    app, live_server, localstripe, cmi_gateway
):
    worker, cron = _start("high", "default", "exports"), _start("cron")
    try:
        assert _until(app, "queue:default", HealthState.OK) == HealthState.OK
        assert _until(app, "scheduler", HealthState.OK) == HealthState.OK
        with app.app_context():
            results = health.check_all()
        states = _states(results)
        for name in ("web", "realtime", "database", "redis", "smtp", "storage", "scheduler"):
            assert states[name] == HealthState.OK, (name, results)
        for queue in ("high", "default", "exports"):
            assert states[f"queue:{queue}"] == HealthState.OK
        # the payment providers are configured (localstripe, the local CMI gateway): asked
        assert states["stripe"] == HealthState.OK and states["cmi"] == HealthState.OK
        assert all(r.latency_ms >= 0 for r in results)
    finally:
        worker.send_signal(signal.SIGTERM)
        cron.send_signal(signal.SIGTERM)
        worker.wait(20)
        cron.wait(20)
    # stopped workers leave their queues unserved; a job waiting there is a queue down
    with app.app_context():
        from app.core.jobs import queue

        assert _states(health.check_all())["queue:high"] == HealthState.DEGRADED
        queue("high").enqueue("app.services.ops.health.disk_percent", "/")
        states = _states(health.check_all())
        assert states["queue:high"] == HealthState.DOWN
        queue("high").empty()


def test_redis_stopped_and_smtp_refused_are_down():
    broken = create_app(
        TESTING=True,
        REDIS_URL="redis://127.0.0.1:1/0",
        MAIL_PORT=free_port(),
        PUBLIC_URL=f"http://127.0.0.1:{free_port()}",
    )
    with broken.app_context():
        results = health.check_all()
    states = _states(results)
    assert states["database"] == HealthState.OK
    for name in ("redis", "queue:default", "scheduler", "smtp", "web", "realtime"):
        assert states[name] == HealthState.DOWN, name
    detail = {r.component: r.detail for r in results}
    assert "Connection" in detail["redis"] and "refused" in detail["smtp"].lower()
    resp = broken.test_client().get("/readyz")
    assert resp.status_code == 503 and resp.json["checks"]["redis"].startswith("error")


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB file system of its own (tmpfs), to fill for real."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)])
    if done.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root (make test runs as root in CI)")
    yield mount
    subprocess.run(["umount", str(mount)])


def test_a_disk_filling_up_is_degraded_then_full_is_down(app, small_disk):
    storage = create_app(TESTING=True, STORAGE_DIR=str(small_disk), HEALTH_DISK_PERCENT=90)
    with storage.app_context():
        assert _states(health.check_local())["storage"] == HealthState.OK
        (Path(small_disk) / "big").write_bytes(b"x" * (1900 * 1024))
        [store] = [r for r in health.check_local() if r.component == "storage"]
        assert store.state == HealthState.DEGRADED and "% used" in store.detail
        with pytest.raises(OSError), open(Path(small_disk) / "rest", "wb") as rest:
            while True:  # up to the last block: nothing can be written any more
                rest.write(b"x" * 1024)
                rest.flush()
        [store] = [r for r in health.check_local() if r.component == "storage"]
        assert store.state == HealthState.DOWN and "No space" in store.detail
    resp = storage.test_client().get("/readyz")
    assert resp.status_code == 503 and resp.json["checks"]["storage"].startswith("error")


def test_the_status_page_shows_each_component_with_its_day(app, client, live_server):
    make_user(app, Role.ADMIN, email="admin-ops@example.fr")
    with app.app_context():
        health.run_round()
    login(client, "admin-ops@example.fr")
    page = client.get("/ops/status").get_data(as_text=True)
    assert "Base de données" in page and "Redis" in page and 'class="strip"' in page
    assert "File « default »" in page  # each queue
    fragment = client.get("/ops/status", headers=HX | {"HX-Target": "ops-status"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="ops-status"')
    # checking now adds a round (no-JS post, 303 back to the page)
    resp = post(client, "/ops/status/check")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/ops/status")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(db.distinct(HealthCheck.at)))) == 2
    assert post(client, "/ops/status/check", csrf=False).status_code == 400


def test_the_history_keeps_the_worst_state_of_each_half_hour(app, ctx):
    from datetime import timedelta

    from app.models import utcnow

    now = utcnow()
    for minutes_ago, state in ((90, HealthState.OK), (80, HealthState.DOWN), (5, HealthState.OK)):
        at = now - timedelta(minutes=minutes_ago)
        db.session.add(
            HealthCheck(
                component="smtp",
                state=state,
                at=at,
                slot=health.slot_of(at),
                rank=health.RANK[state],
            )
        )
    db.session.add(
        HealthCheck(component="smtp", state=HealthState.OK, at=now, slot=health.slot_of(now))
    )
    db.session.commit()
    [line] = health.status(now)
    assert line.strip.count(HealthState.DOWN) == 1 and line.strip[-1] == HealthState.OK
    assert line.strip[0] is None  # not checked a day ago
    assert line.uptime == 3 / 4


def test_staff_other_than_admins_see_the_status_but_others_do_not(app, client):
    make_user(app, Role.SUPPORT, email="support-ops@example.fr")
    login(client, "support-ops@example.fr")
    assert client.get("/ops/status").status_code == 200
    assert post(client, "/ops/status/check").status_code == 403  # checking now: admins
    client.post("/logout", data={})
    other = client.application.test_client()
    make_user(app, Role.CLIENT, email="client-ops@example.fr")
    login(other, "client-ops@example.fr")
    assert other.get("/ops/status").status_code == 403
    assert other.get("/ops/pulse").status_code == 403
