"""Prometheus metrics (A12): counted by every process (this one and the live gunicorn server,
summed from their files), read with Prometheus's own text parser, guarded by a token or a
network rule; LivePulse draws the stored pulse."""

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from app.extensions import db
from app.factory import create_app
from app.models import PulseSample, Role
from app.services.ops import pulse
from tests.factories import HX, login, make_user


def _samples(client, headers=None) -> dict:
    resp = client.get("/metrics", headers=headers or {})
    assert resp.status_code == 200, resp.status_code
    assert resp.headers["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def _value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_per_route_and_status_across_processes(app, client, live_server):
    before = _samples(client)
    for _ in range(3):
        assert client.get("/help").status_code == 200
    assert client.get("/no-such-page").status_code == 404
    with urllib.request.urlopen(f"{live_server}/help") as resp:  # another process
        assert resp.status == 200
    after = _samples(client)
    count = "ft_http_request_duration_seconds_count"
    assert (
        _value(after, count, route="main.help", status="200")
        - _value(before, count, route="main.help", status="200")
        == 4
    )
    assert _value(after, count, route="unmatched", status="404") >= 1
    inf = _value(
        after, "ft_http_request_duration_seconds_bucket", route="main.help", status="200", le="+Inf"
    )
    assert inf == _value(after, count, route="main.help", status="200")


def test_errors_jobs_emails_and_business_events_are_counted(app, client, run_jobs, smtp):
    from app.core.jobs import queue

    before = _samples(client)
    with app.app_context():
        queue("default").enqueue("app.services.ops.health.disk_percent", "/no/such/dir")
        from app.services.notifications import emails

        emails.queue_email_to("someone@example.fr", "fr", "verify_email", link="http://x")
        db.session.commit()
    run_jobs()
    after = _samples(client)
    assert (
        _value(after, "ft_jobs_failed_total", queue="default")
        - _value(before, "ft_jobs_failed_total", queue="default")
        == 1
    )
    ran = sum(
        _value(after, "ft_job_duration_seconds_count", queue=q)
        - _value(before, "ft_job_duration_seconds_count", queue=q)
        for q in ("high", "default")
    )
    assert ran == 2  # the failed one and the email, each timed
    assert (
        _value(after, "ft_emails_total", outcome="sent")
        - _value(before, "ft_emails_total", outcome="sent")
        == 1
    )
    assert len(smtp.messages) == 1


def test_a_completed_simulation_is_a_business_event(app, client):
    from tests.simulator.test_simulator_engine import GOLDEN
    from tests.simulator.test_simulator_pages import run_steps  # the visitor's own path

    before = _samples(client)
    run_steps(client, GOLDEN)
    after = _samples(client)
    key = "ft_business_events_total"
    assert _value(after, key, kind="simulation") - _value(before, key, kind="simulation") == 1


def test_metrics_need_the_token_or_a_trusted_network():
    guarded = create_app(TESTING=True, METRICS_TOKEN="s3cret-token")
    c = guarded.test_client()
    assert c.get("/metrics").status_code == 404
    assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert _samples(c, {"Authorization": "Bearer s3cret-token"})
    elsewhere = create_app(TESTING=True, METRICS_NETWORKS="10.0.0.0/8")
    assert elsewhere.test_client().get("/metrics").status_code == 404  # 127.0.0.1 is not in it
    off = create_app(TESTING=True, METRICS_ENABLED=False)
    assert off.test_client().get("/metrics").status_code == 404


def test_the_pulse_reads_rates_from_the_counters(app, client):
    with app.app_context():
        reader = pulse.Pulse()
        first = reader.read(smtp_down=False)
        for _ in range(25):
            client.get("/help")
        client.get("/no-such-page")
        second = reader.read(smtp_down=True)
    assert first["queue_depth"] == 0 and "scheduler_silent_s" in first
    assert second["requests_per_min"] > 0 and second["p95_ms"] > 0
    assert second["error_rate"] == 0  # a 404 is not an error of ours
    assert second["smtp_down"] == 1.0 and 0 < second["disk_percent"] <= 100


def test_quantile_follows_prometheus():
    buckets = {0.1: 50.0, 0.5: 90.0, 1.0: 100.0, float("inf"): 100.0}
    assert pulse.quantile(0.5, buckets) == 0.1
    assert abs(pulse.quantile(0.95, buckets) - 0.75) < 1e-9
    assert pulse.quantile(0.95, {}) is None


def test_livepulse_draws_the_last_hour(app, client):
    make_user(app, Role.ADMIN, email="pulse-admin@example.fr")
    with app.app_context():
        for n in range(5):
            db.session.add(PulseSample(values={"requests_per_min": float(n * 10), "p95_ms": 12.5}))
        db.session.commit()
    login(client, "pulse-admin@example.fr")
    page = client.get("/ops/pulse").get_data(as_text=True)
    assert page.count('class="spark"') == len(pulse.DRAWN)
    assert "<strong>40</strong>" in page  # the latest reading, printed beside its line
    fragment = client.get("/ops/pulse", headers=HX | {"HX-Target": "ops-pulse"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="ops-pulse"') and "ops:pulse from:body" in body
