"""`make bench` measurements, run by scripts/bench.sh once the servers are up.

1. Throughput and latency (wrk, 16 connections) of the login page, the admin dashboard and the
   approval queue beside a bare Flask "hello" under the same gunicorn configuration, and of
   /healthz: the floor any page of this app can reach (same middleware, no template, no query).
   Each page is checked to answer 200 with the cookie first (a 302 to /login would look very
   fast), and the runs are interleaved with hello so a noisy neighbour hits both alike; the
   median is reported.
2. Signal latency: 500 logged-in Socket.IO clients, a real RQ worker emitting through the one
   emit API, time from emit to receipt.
3. Page weight: bytes transferred (compressed, headers included) on a first load in Chromium.
4. Simulator: 10 000 computations in a loop, the step fragment, an answer and the public API
   at 16 concurrent users, and each export's build time in the exports worker (bench/simulator.py).
5. Dossiers: the marketplace search, a dossier page, the client dashboard and a transition at
   16 concurrent users, and the web workers' memory during a 20 MB upload (bench/dossiers.py).
6. Conversations: a 10 000-message thread page, search over 5 million messages, and message
   delivery to sockets over two realtime processes beside a bare echo (bench/messages.py).
7. SLA: the alert centre and an expert dashboard, a transition with and without its clocks,
   and the sweeps with their memory (bench/sla.py).
8. Payments: the Stripe webhook endpoint, a burst of 1 000 payment events through one worker,
   and the billing page (bench/payments.py).
9. Sales and support: the pipeline board, the lead list, the support queue and the request
   form's live price, one user at a time (bench/crm.py).
10. Admin analytics: the dashboard and each analytics page warm and cold, and a monthly
   report's time and memory (bench/analytics.py).

Before and after, a plain Python loop is timed: the machine's phase the figures were taken in.

Environment: APP_URL, HELLO_URL, REALTIME_URL, REALTIME2_URL, ECHO_URLS, REDIS_URL, DATABASE_URL
(set by bench.sh).
"""

import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench import platform_app, signed_session

APP = os.environ["APP_URL"]
HELLO = os.environ["HELLO_URL"]
REALTIME = os.environ["REALTIME_URL"]
SECONDS = os.environ.get("BENCH_SECONDS", "8")
ONE_USER_SECONDS = os.environ.get("BENCH_ONE_USER_SECONDS", "4")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ADMIN = ("admin@demo-financialtracker.fr", "demo-password-2026")
CLIENTS = int(os.environ.get("BENCH_SOCKETS", "500"))

WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %f %f %f %f %d %d\\n", summary.requests,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def log_in() -> requests.Session:
    http = requests.Session()
    page = http.get(f"{APP}/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = http.post(
        f"{APP}/login",
        data={"csrf_token": token, "email": ADMIN[0], "password": ADMIN[1]},
        allow_redirects=False,
    )
    assert resp.status_code == 303, f"admin login failed: {resp.status_code}"
    return http


def wrk(url: str, cookie: str | None, script_dir: Path, users: int = 16) -> dict:
    header = f'wrk.headers["Cookie"] = "{cookie}"\n' if cookie else ""
    return wrk_script(url, header, script_dir, users)


def busy_ms() -> float:
    """CPU time spent by the whole machine so far (every process, wrk included), in ms."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) * 1000 / os.sysconf("SC_CLK_TCK")


def wrk_script(url: str, setup: str, script_dir: Path, users: int = 16) -> dict:
    """wrk with `setup` Lua (method, headers, body) and the p95 report hook, `users`
    connections each sending its next request as its previous answer arrives. `cpu_ms` is the
    machine's CPU per request during the run (app, PostgreSQL, Redis and wrk together): with
    16 connections kept busy on N cores, a request waits about 16 x cpu_ms / N.

    `users=1` is one user at a time: the latency without queueing behind others. It is wrk's
    too, not a Python client's: on this 2-core machine a `requests` client spent 3-5 ms of the
    CPUs the platform shares with it on every request, and that time was in its figures."""
    script = script_dir / f"s{abs(hash((url, setup)))}.lua"
    if not script.exists():
        script.write_text(setup + WRK_REPORT)
    seconds = SECONDS if users > 1 else ONE_USER_SECONDS
    command = ["wrk", f"-t{min(2, users)}", f"-c{users}", f"-d{seconds}s", "--timeout", "10s"]
    busy = busy_ms()
    out = subprocess.run(
        [*command, "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = busy_ms() - busy
    n, rps, p50, p95, p99, non2xx, errors = re.search(r"RESULT (.*)", out).group(1).split()
    assert int(non2xx) == 0 and int(errors) == 0, f"{url}: {non2xx} non-2xx, {errors} errors"
    return {
        "n": int(n),
        "rps": float(rps),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "cpu_ms": cpu / max(int(n), 1),
    }


def throughput() -> dict:
    http = log_in()
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    pages = {
        # the app's own floor: a JSON endpoint through the same middleware, no template, no DB
        "healthz (floor)": (f"{APP}/healthz", None),
        "login page": (f"{APP}/login", None),
        "admin dashboard": (f"{APP}/admin/", cookie),
        "approval queue": (f"{APP}/admin/approvals", cookie),
    }
    for name, (url, ck) in pages.items():  # the real page, not a redirect to /login
        resp = requests.get(url, headers={"Cookie": ck} if ck else {}, allow_redirects=False)
        assert resp.status_code == 200, f"{name}: {resp.status_code}"
        assert (ck is None) or "/logout" in resp.text, f"{name}: not the logged-in page"
    results: dict[str, list] = {"hello": [], **{name: [] for name in pages}}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(RUNS):
            for name, (url, ck) in pages.items():
                results["hello"].append(wrk(f"{HELLO}/", None, Path(tmp)))
                results[name].append(wrk(url, ck, Path(tmp)))
    print(f"\n## Throughput: wrk -t2 -c16 -d{SECONDS}s, median of {RUNS} interleaved runs")
    print("gunicorn -k gthread -w 4 --threads 8 for both the app and the bare Flask hello\n")
    hello_rps = statistics.median(r["rps"] for r in results["hello"])
    summary = {}
    for name, runs in results.items():
        keys = ("rps", "p50", "p95", "p99", "cpu_ms")
        med = {k: statistics.median(r[k] for r in runs) for k in keys}
        share = 100 * med["rps"] / hello_rps
        summary[name] = {**med, "share": share}
        print(
            f"{name:16} {med['rps']:8.0f} req/s  {share:5.1f} % of hello   "
            f"p50 {med['p50']:6.1f} ms  p95 {med['p95']:6.1f} ms  p99 {med['p99']:6.1f} ms  "
            f"CPU {med['cpu_ms']:5.2f} ms/req"
        )
    # the same pages for one user at a time: the latency without queueing behind others
    print(f"\nOne user at a time (wrk -t1 -c1 -d{ONE_USER_SECONDS}s)")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (url, ck) in pages.items():
            r = summary[name]["alone"] = wrk(url, ck, Path(tmp), users=1)
            print(f"{name:16} p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms")
    return summary


# -- signal latency ------------------------------------------------------------------------------


def session_cookies(n: int) -> tuple[list[int], list[str]]:
    """Signed Flask session cookies for n scale clients (logging 500 users in through scrypt
    would only measure the password hash)."""
    from app.extensions import db
    from app.models import Role, User

    app = platform_app()
    with app.app_context(), app.test_request_context():
        users = db.session.scalars(
            db.select(User).where(User.role == Role.CLIENT).order_by(User.id).limit(n)
        ).all()
        name = app.config["SESSION_COOKIE_NAME"]
        cookies = [f"{name}={signed_session(u)}" for u in users]
        return [u.id for u in users], cookies


async def _listen(n: int, cookies: list[str], rounds: int, user_ids: list[int]) -> list[float]:
    import socketio

    latencies: list[float] = []
    done = asyncio.Event()
    expected = n * rounds
    clients = []

    async def connect(cookie: str):
        client = socketio.AsyncClient(reconnection=False)

        @client.on("notify")
        async def on_notify(data):
            if data.get("event") == "bench:ping":
                latencies.append((time.time() - data["sent"]) * 1000)
                if len(latencies) >= expected:
                    done.set()

        await client.connect(REALTIME, headers={"Cookie": cookie}, transports=["websocket"])
        clients.append(client)

    for i in range(0, n, 50):  # connect in batches: 500 handshakes at once is a different test
        await asyncio.gather(*(connect(c) for c in cookies[i : i + 50]))
    print(f"{len(clients)} sockets connected")
    await asyncio.sleep(1)

    from app.core.jobs import enqueue

    app = platform_app()
    with app.app_context():
        enqueue("default", "bench.signals.emit_pings", user_ids, rounds)
    try:
        await asyncio.wait_for(done.wait(), timeout=60 + rounds * n / 250)
    except TimeoutError:
        print(f"only {len(latencies)} of {expected} signals arrived")
    await asyncio.gather(*(c.disconnect() for c in clients))
    return latencies


def signal_latency() -> dict:
    rounds = int(os.environ.get("BENCH_SIGNAL_ROUNDS", "10"))
    user_ids, cookies = session_cookies(CLIENTS)
    latencies = asyncio.run(_listen(len(cookies), cookies, rounds, user_ids))
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    result = {"n": len(latencies), "p50": q[49], "p95": q[94], "p99": q[98], "max": latencies[-1]}
    print(f"\n## Signal latency: worker emit -> client receipt, {len(cookies)} sockets connected")
    print(
        f"{result['n']} signals  p50 {result['p50']:.1f} ms  p95 {result['p95']:.1f} ms  "
        f"p99 {result['p99']:.1f} ms  max {result['max']:.1f} ms"
    )
    return result


# -- page weight ---------------------------------------------------------------------------------


def page_weight() -> dict:
    from playwright.sync_api import sync_playwright

    http = log_in()
    session = http.cookies.get("session")
    host = APP.split("//", 1)[1].split(":")[0]
    results = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            args=["--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"],
        )
        from bench.simulator import completed

        visitor, _token, results_path = completed(APP)
        for name, path, cookie in (
            ("login page", "/login", None),
            ("admin dashboard", "/dashboard", session),
            ("simulator results", results_path, visitor.cookies.get("session")),
        ):
            context = browser.new_context()  # empty cache: a first load
            if cookie:
                context.add_cookies(
                    [{"name": "session", "value": cookie, "domain": host, "path": "/"}]
                )
            page = context.new_page()
            finished = []
            page.on("requestfinished", lambda request, done=finished: done.append(request))
            page.goto(APP + path, wait_until="networkidle")
            total = 0
            for request in finished:
                sizes = request.sizes()
                total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
            results[name] = {"bytes": total, "requests": len(finished)}
            context.close()
        browser.close()
    print("\n## Page weight: first load in Chromium, bytes on the wire (compressed, with headers)")
    for name, r in results.items():
        print(f"{name:16} {r['bytes'] / 1024:6.1f} KB in {r['requests']} requests")
    return results


def machine_speed(when: str) -> None:
    """This machine's speed changes by up to 60 % within the hour (its neighbours): the same
    plain Python loop timed before and after the measurements says which phase they ran in."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(3_000_000):
            total += i
        best = min(best, (time.perf_counter() - started) * 1000)
    print(f"\n## Machine speed {when}: 3 million additions in {best:.0f} ms (lower is faster)")


def main() -> None:
    machine_speed("before")
    parts = sys.argv[1:] or [
        "throughput",
        "signals",
        "weight",
        "simulator",
        "dossiers",
        "messages",
        "sla",
        "payments",
        "crm",
        "analytics",
        "ops",
    ]
    if "throughput" in parts:
        throughput()
    if "signals" in parts:
        signal_latency()
    if "weight" in parts:
        page_weight()
    if "simulator" in parts:
        from bench import simulator

        simulator.compute_loop()
        simulator.requests_bench(APP, wrk_script)
        simulator.export_times(APP)
    if "dossiers" in parts:
        from bench import dossiers

        dossiers.requests_bench(APP, wrk_script)
        dossiers.upload_memory(APP)
    if "messages" in parts:
        from bench import messages

        http = log_in()
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        messages.page_and_search(APP, wrk_script, cookie)
        messages.live(APP)
    if "sla" in parts:
        from bench import sla

        sla.requests_bench(APP, HELLO, wrk_script)
        sla.sweeps()
    if "payments" in parts:
        from bench import payments

        payments.requests_bench(APP, HELLO, wrk_script)
    if "crm" in parts:
        from bench import crm

        crm.requests_bench(APP, HELLO, wrk_script)
    if "analytics" in parts:
        from bench import analytics

        analytics.requests_bench(APP, HELLO, wrk_script)
    if "ops" in parts:
        from bench import ops

        ops.metrics_cost(APP, wrk_script)
        ops.metrics_in_process()
        ops.alert_latency()
    machine_speed("after")


if __name__ == "__main__":
    main()
