"""Admin analytics measurements for `make bench` (issue 28 targets), on the scale dataset:

- the admin dashboard and each analytics page, one user at a time (wrk -c1) with the cache
  warm, and the server's CPU per request as a ratio to the bare hello in the same run;
- the same pages with the cache cold: every kind's generation bumped before each request, so
  each one recomputes from the facts (sequential requests, p95 of their times, once every web
  worker has served the page: a worker's first request compiles its templates);
- a monthly report over the scale data (the expert ranking of last month, Excel and PDF) built
  in a fresh process as the exports worker would: wall time and peak resident memory.
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from redis import Redis

from bench import platform_app
from bench.dossiers import _http_as
from bench.simulator import lua_request

PAGES = {
    # what any admin page costs before its own work (session, layout, the admin nav's counts)
    "signed-in admin floor (/help)": "/help",
    "admin dashboard (30 days)": "/admin/",
    "funnel (30 days)": "/analytics/funnel",
    "experts (30 days)": "/analytics/experts",
    "experts (a year)": "/analytics/experts?from={year_ago}",
    "products (30 days)": "/analytics/products",
    "referrers (30 days)": "/analytics/referrers",
    "deadlines by product, expert, firm (30 days)": "/analytics/sla",
}

MONTHLY = """
import resource, sys, time
from datetime import date, timedelta
from app.factory import create_app
from app.services.analytics import exports, reports
from app.services.analytics.figures import Filters
app = create_app()
with app.test_request_context():
    end = date.today().replace(day=1) - timedelta(days=1)
    f = Filters(end.replace(day=1), end)
    started = time.monotonic()
    for view in ("experts", "products", "sla"):
        report = reports.build(view, f)
        for fmt in ("xlsx", "pdf"):
            data = exports.BUILDERS[fmt](report, exports.filter_labels(report))
    print(time.monotonic() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _admin() -> int:
    from app.extensions import db
    from app.models import Role, User

    with platform_app().app_context():
        return db.session.scalar(db.select(User.id).where(User.role == Role.ADMIN).limit(1))


def _cold_times(url: str, cookie: str, redis: Redis, n: int = 15) -> list[float]:
    times = []
    for _ in range(n):
        redis.incr("ft-gen:facts")
        redis.incr("ft-gen:experts")
        redis.incr("ft-gen:sla")
        started = time.perf_counter()
        resp = requests.get(url, headers={"Cookie": cookie}, allow_redirects=False)
        times.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
    return times


def requests_bench(app_url: str, hello_url: str, wrk_script) -> dict:
    import os
    from datetime import date, timedelta

    _, _, cookie = _http_as(app_url, _admin())
    redis = Redis.from_url(os.environ["REDIS_URL"])
    year_ago = (date.today() - timedelta(days=364)).isoformat()
    pages = {name: path.format(year_ago=year_ago) for name, path in PAGES.items()}
    results, weights = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in pages.items():
            for _ in range(12):  # every web worker has compiled the page's templates
                page = requests.get(f"{app_url}{path}", headers={"Cookie": cookie})
                assert page.status_code == 200, (path, page.status_code)
            weights[name] = len(page.content)
            cold = _cold_times(f"{app_url}{path}", cookie, redis)
            script = lua_request("GET", {"Cookie": cookie}, None)
            wrk_script(f"{app_url}{path}", script, Path(tmp), users=1)  # warm
            hello = wrk_script(f"{hello_url}/", lua_request("GET", {}, None), Path(tmp), users=1)
            run = wrk_script(f"{app_url}{path}", script, Path(tmp), users=1)
            results[name] = (run, hello, cold)
    print("\n## Admin analytics: one user at a time (wrk -t1 -c1), scale dataset, hello same run")
    for name, (r, h, cold) in results.items():
        cold95 = statistics.quantiles(cold, n=20)[-1]
        print(
            f"{name:46} warm p95 {r['p95']:6.1f} ms  CPU {r['cpu_ms']:5.2f} ms/req = "
            f"{r['cpu_ms'] / h['cpu_ms']:5.1f}x hello ({h['cpu_ms']:4.2f} ms)  "
            f"cold p95 {cold95:6.1f} ms  {weights[name] / 1024:5.1f} KB"
        )
    out = subprocess.run(
        [sys.executable, "-c", MONTHLY], capture_output=True, text=True, check=True
    ).stdout.split()
    print(
        f"monthly report (experts, products, deadlines; Excel and PDF each): "
        f"{float(out[-2]):.1f} s, peak {float(out[-1]):.0f} MB resident"
    )
    return results
