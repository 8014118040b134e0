"""Simulator measurements for `make bench` (issue 3 targets), called from bench/run.py.

- one simulation computed (pure evaluate, catalogue loaded) 10 000 times in a loop;
- the questionnaire step fragment (GET) and an answer (POST) at 16 concurrent users, and the
  public API, with wrk;
- each export, from the job's start to the file stored, through the real exports worker.
"""

import re
import tempfile
import time
from pathlib import Path

import requests

from bench import platform_app
from tests.simulator.test_simulator_engine import GOLDEN

LOOPS = 10_000


def compute_loop() -> dict:
    from app.services import catalogue
    from app.services.simulator import simulations

    app = platform_app()
    with app.test_request_context():
        questions = catalogue.questions()
        by_code = {q.code: q for q in questions}
        products = catalogue.products(active_only=True)
        answers = simulations.validate_all(GOLDEN, questions)
        simulations.evaluate(answers, products, by_code)  # warm up
        start = time.perf_counter()
        for _ in range(LOOPS):
            simulations.evaluate(answers, products, by_code)
        per = (time.perf_counter() - start) * 1000 / LOOPS
    print(f"\n## Simulation computed in a loop: {LOOPS} × evaluate(), {per:.3f} ms each")
    return {"ms_per_simulation": per}


def visitor(app_url: str) -> tuple[requests.Session, str]:
    """A visitor with a draft in progress (one answer given); returns the session and token."""
    http = requests.Session()
    page = http.get(f"{app_url}/simulator").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = http.post(
        f"{app_url}/simulator/answer",
        data={"csrf_token": token, "question": "GENERAL_001", "GENERAL_001": GOLDEN["GENERAL_001"]},
        headers={"HX-Request": "true", "HX-Target": "simulator"},
    )
    assert resp.status_code == 200 and 'value="GENERAL_002"' in resp.text, resp.status_code
    return http, token


def completed(app_url: str) -> tuple[requests.Session, str, str]:
    """A visitor who submitted the whole questionnaire (no-JS form); returns the results URL."""
    http = requests.Session()
    page = http.get(f"{app_url}/simulator").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = {"csrf_token": token}
    for code, value in GOLDEN.items():
        data[code] = value
    resp = http.post(f"{app_url}/simulator", data=data, allow_redirects=False)
    assert resp.status_code == 303, resp.status_code
    return http, token, resp.headers["Location"]


def lua_request(method: str, headers: dict, body: str | None) -> str:
    lines = [f'wrk.method = "{method}"']
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    if body is not None:
        escaped = body.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'wrk.body = "{escaped}"')
    return "\n".join(lines) + "\n"


def requests_bench(app_url: str, wrk_script) -> dict:
    import json
    from urllib.parse import urlencode

    http, token = visitor(app_url)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    hx = {"HX-Request": "true", "HX-Target": "simulator", "Cookie": cookie}
    answer = urlencode({"csrf_token": token, "question": "GENERAL_002", "GENERAL_002": "2 500 000"})
    cases = {
        "step fragment (GET)": (f"{app_url}/simulator/step", lua_request("GET", hx, None)),
        "answer (POST)": (
            f"{app_url}/simulator/answer",
            lua_request(
                "POST",
                {**hx, "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": token},
                answer,
            ),
        ),
        "API POST /api/v1/simulations": (
            f"{app_url}/api/v1/simulations",
            lua_request(
                "POST",
                {"Content-Type": "application/json"},
                json.dumps({"answers": GOLDEN}, ensure_ascii=False),
            ),
        ),
    }
    # each request answers 200 before it is measured (a 4xx would look fast)
    check = http.get(f"{app_url}/simulator/step", headers=hx)
    assert check.status_code == 200 and "GENERAL_002" in check.text
    api = requests.post(f"{app_url}/api/v1/simulations", json={"answers": GOLDEN})
    assert api.status_code == 200 and api.json()["total_estimated_amount"] == 190300.0
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (url, script) in cases.items():
            results[name] = wrk_script(url, script, Path(tmp))
    print("\n## Simulator requests: wrk -t2 -c16 (16 concurrent users)")
    for name, r in results.items():
        print(
            f"{name:30} {r['rps']:7.0f} req/s  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
            f"p99 {r['p99']:6.1f} ms  CPU {r['cpu_ms']:5.2f} ms/req"
        )
    # the same requests from one user at a time: the latency without queueing behind others
    print("\n## Simulator requests, one user at a time (wrk -t1 -c1)")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (url, script) in cases.items():
            r = results[f"{name} (one user)"] = wrk_script(url, script, Path(tmp), users=1)
            print(f"{name:30} p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms")
    return results


def export_times(app_url: str) -> dict:
    """Each format requested over HTTP, built by the running exports worker; the time from
    the job's start to the stored file is read back from the Export row."""
    from app.extensions import db
    from app.models import Export, ExportStatus

    http, token, results_url = completed(app_url)
    sim_token = results_url.rsplit("/", 1)[1]
    app = platform_app()
    timings = {}
    for fmt in ("xlsx", "docx", "pdf"):
        for _ in range(3):
            resp = http.post(
                f"{app_url}/simulator/results/{sim_token}/exports",
                data={"csrf_token": token, "format": fmt},
                allow_redirects=False,
            )
            assert resp.status_code == 303, resp.status_code
            export_id = int(resp.headers["Location"].rsplit("/", 1)[1])
            deadline = time.time() + 30
            with app.app_context():
                while time.time() < deadline:
                    export = db.session.get(Export, export_id)
                    if export.finished:
                        break
                    db.session.rollback()
                    time.sleep(0.05)
                assert export.status == ExportStatus.DONE, export.status
                seconds = (export.finished_at - export.started_at).total_seconds()
            timings.setdefault(fmt, []).append(seconds)
    print("\n## Exports: job start -> file stored (3 runs each, exports worker)")
    for fmt, runs in timings.items():
        print(f"{fmt:5} best {min(runs):.2f} s  worst {max(runs):.2f} s")
    return timings
