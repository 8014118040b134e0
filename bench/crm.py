"""Sales and support measurements for `make bench` (issue 27 targets), on the scale dataset
(200 000 leads, 1 000 000 activities, 300 000 tickets): one user at a time (wrk -c1) with the
server's CPU per request as a ratio to the bare hello in the same run,

- the pipeline board of the busiest seller (their leads, every column's count and newest cards);
- the lead list filtered by stage and source, sorted by the time in stage;
- the support queue (to handle, everyone's) and filtered to one priority;
- the request form's live price (the estimate fragment a number's keystroke fetches);
- and the signed-in /help page: what any signed-in page costs before its own work.
"""

import tempfile
from pathlib import Path

import requests

from bench import platform_app
from bench.dossiers import _http_as
from bench.simulator import lua_request


def _people() -> tuple[int, int]:
    from app.extensions import db
    from app.models import Lead, Role, User

    app = platform_app()
    with app.app_context():
        seller = db.session.scalar(
            db.select(Lead.owner_id)
            .where(Lead.owner_id.is_not(None))
            .group_by(Lead.owner_id)
            .order_by(db.func.count().desc())
            .limit(1)
        )
        agent = db.session.scalar(db.select(User.id).where(User.role == Role.SUPPORT).limit(1))
        return seller, agent


def requests_bench(app_url: str, hello_url: str, wrk_script) -> dict:
    seller, agent = _people()
    _, _, seller_cookie = _http_as(app_url, seller)
    _, _, agent_cookie = _http_as(app_url, agent)
    price = "/request/estimate?need=custom_plan&sites=8&employees=1250&version=1"
    cases = {
        # the floor every signed-in page pays (session, layout, badges): the arithmetic's base
        "signed-in floor (/help, the seller)": ("/help", seller_cookie, {}),
        "pipeline board (busiest seller)": ("/crm", seller_cookie, {}),
        "lead list, stage + source, by time in stage": (
            "/crm/leads?stage=qualified&source=request_form&sort=stage_age",
            seller_cookie,
            {},
        ),
        "lead list, everyone's, newest": ("/crm/leads", seller_cookie, {}),
        "support queue (to handle)": ("/support/queue", agent_cookie, {}),
        "support queue, urgent only": ("/support/queue?priority=urgent", agent_cookie, {}),
        "request form live price": (price, "", {"HX-Request": "true"}),
    }
    for path, cookie, extra in cases.values():
        headers = {"Cookie": cookie, **extra} if cookie else extra
        page = requests.get(f"{app_url}{path}", headers=headers, allow_redirects=False)
        assert page.status_code == 200, (path, page.status_code)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (path, cookie, extra) in cases.items():
            headers = {"Cookie": cookie, **extra} if cookie else dict(extra)
            script = lua_request("GET", headers, None)
            wrk_script(f"{app_url}{path}", script, Path(tmp), users=1)  # warm
            hello = wrk_script(f"{hello_url}/", lua_request("GET", {}, None), Path(tmp), users=1)
            run = wrk_script(f"{app_url}{path}", script, Path(tmp), users=1)
            results[name] = (run, hello)
    print(
        "\n## Sales and support: one user at a time (wrk -t1 -c1), scale dataset, "
        "hello in the same run"
    )
    for name, (r, h) in results.items():
        print(
            f"{name:44} p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
            f"CPU {r['cpu_ms']:5.2f} ms/req = {r['cpu_ms'] / h['cpu_ms']:5.1f}x hello "
            f"({h['cpu_ms']:4.2f} ms)"
        )
    return results
