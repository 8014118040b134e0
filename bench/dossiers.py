"""Dossier measurements for `make bench` (issue 4 targets), called from bench/run.py, on the
scale dataset (10 000 experts, 500 000 dossiers):

- the marketplace search with filters, anonymous, at 16 concurrent users (wrk), and alone with
  and without filters;
- a dossier page and the client dashboard, as the dossier's client (wrk, session cookie);
- a transition (`request_documents` by the dossier's expert: guards, a version bump, the
  timeline, notifications) repeated at 16 concurrent connections, then by one user once the
  worker has announced the first ones (`settle`);
- the growth of the web workers' memory while a 20 MB file is uploaded.
"""

import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from bench import platform_app, signed_session
from bench.simulator import lua_request

SIZE_20MB = 20_000_000


def _signed_session(user_id: int) -> str:
    from app.extensions import db
    from app.models import User

    app = platform_app()
    with app.app_context(), app.test_request_context():
        return signed_session(db.session.get(User, user_id))


def _http_as(app_url: str, user_id: int) -> tuple[requests.Session, str, str]:
    """A logged-in session (signed cookie, as a browser would hold it), its CSRF token and the
    cookie header once the token is in the session."""
    http = requests.Session()
    host = app_url.split("//", 1)[1].split(":")[0]
    http.cookies.set("session", _signed_session(user_id), domain=host)
    page = http.get(f"{app_url}/help").text
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    return http, token, cookie


def _pick(status: str, with_expert: bool = True, code: str | None = None) -> tuple:
    """A scale dossier in `status`: (dossier id, client id, expert id)."""
    from app.extensions import db
    from app.models import Dossier, DossierStatus, Product, ProductKind
    from app.models.dossier import QUOTE_PRODUCTS

    app = platform_app()
    with app.app_context():
        financial = db.select(Product.id).where(Product.kind == ProductKind.FINANCIAL)
        query = db.select(Dossier.id, Dossier.client_id, Dossier.expert_id).where(
            Dossier.status == DossierStatus(status),
            Dossier.source == "scale",
            Dossier.product_id.in_(financial),
            Dossier.product_id.not_in(
                db.select(Product.id).where(Product.code.in_(QUOTE_PRODUCTS))
            ),
        )
        if with_expert:
            query = query.where(Dossier.expert_id.is_not(None))
        if code:
            query = query.where(
                Dossier.product_id
                == db.select(Product.id).where(Product.code == code).scalar_subquery()
            )
        return db.session.execute(query.order_by(Dossier.id).limit(1)).one()


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(c) for c in children]


def settle(after: str, timeout: float = 600) -> None:
    """Wait until the workers have run every queued job. A load phase leaves thousands behind
    (each transition's announcement and its emails: about 50 a second for the worker), and the
    one-user figures that follow describe a quiet server, not one still catching up with them."""
    import redis
    from rq import Queue

    connection = redis.Redis.from_url(os.environ["REDIS_URL"])
    queues = [Queue(name, connection=connection) for name in ("high", "default")]
    started = time.perf_counter()
    backlog = sum(q.count for q in queues)
    while any(q.count or q.started_job_registry.count for q in queues):
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"the workers did not catch up within {timeout:.0f} s")
        time.sleep(0.2)
    waited = time.perf_counter() - started
    print(f"\n(the worker ran the {backlog} jobs left by {after} in {waited:.0f} s)")


def _transition_entries(app_url: str, count: int = 400) -> list[tuple[str, str, str]]:
    """(path, cookie, body) of `request_documents` on `count` dossiers awaiting documents,
    each with its own expert's cookie and CSRF token."""
    from app.extensions import db
    from app.models import Dossier, DossierStatus, Product, ProductKind
    from app.models.dossier import QUOTE_PRODUCTS

    app = platform_app()
    with app.app_context():
        rows = db.session.execute(
            db.select(Dossier.id, Dossier.expert_id)
            .where(
                Dossier.status == DossierStatus.DOCUMENTS_REQUESTED,
                Dossier.source == "scale",
                Dossier.product_id.in_(
                    db.select(Product.id).where(
                        Product.kind == ProductKind.FINANCIAL,
                        Product.code.not_in(QUOTE_PRODUCTS),
                    )
                ),
            )
            .order_by(Dossier.id)
            .limit(count)
        ).all()
    entries = []
    for dossier_id, expert_id in rows:
        _, token, cookie = _http_as(app_url, expert_id)
        body = f"csrf_token={token}&items=Relev%C3%A9+de+flotte&required=0&message=Merci"
        entries.append((f"/dossiers/{dossier_id}/actions/request_documents", cookie, body))
    return entries


def _post_transition(http, app_url: str, entry: tuple[str, str, str]) -> None:
    """One entry's transition over HTTP, as a browser posts it; the answer must be a 303."""
    path, cookie, body = entry
    resp = http.post(
        f"{app_url}{path}",
        data=body,
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
    )
    assert resp.status_code == 303, f"transition: {resp.status_code}"


def _transition_script(entries: list[tuple[str, str, str]]) -> str:
    """wrk Lua cycling over the entries: two connections never act on the same dossier at
    once (that would measure the 409 of the losing one)."""
    half = len(entries) // 2
    entries = [f'{{"{path}", "{cookie}", "{body}"}}' for path, cookie, body in entries]
    return (
        "local entries = {" + ",\n".join(entries) + "}\n"
        "local counter = 0\n"
        "local threads = 0\n"
        # setup() runs in the main state; thread:set() makes `base` a global of that thread
        "function setup(thread) thread:set('base', threads * " + str(half) + "); "
        "threads = threads + 1 end\n"
        "function request()\n"
        # each thread cycles within its own half: never two connections on one dossier
        "  local e = entries[(base or 0) + counter % " + str(half) + " + 1]\n"
        "  counter = counter + 1\n"
        "  return wrk.format('POST', e[1], {['Cookie'] = e[2], "
        "['Content-Type'] = 'application/x-www-form-urlencoded'}, e[3])\n"
        "end\n"
    )


def requests_bench(app_url: str, wrk_script) -> dict:
    from app.extensions import db
    from app.models import Product

    app = platform_app()
    with app.app_context():
        ticpe = db.session.scalar(db.select(Product.id).where(Product.code == "TICPE"))
    dossier_id, client_id, _ = _pick("audit_in_progress")
    _, _, client_cookie = _http_as(app_url, client_id)
    entries = _transition_entries(app_url)
    transitions = _transition_script(entries)
    search = (
        f"{app_url}/experts/?product={ticpe}&sector=Transport+et+Logistique"
        "&min_rating=3.5&max_fee=30&available=1"
    )
    cases = {
        "marketplace search (filters)": (search, lua_request("GET", {}, None)),
        "dossier page (client)": (
            f"{app_url}/dossiers/{dossier_id}",
            lua_request("GET", {"Cookie": client_cookie}, None),
        ),
        "client dashboard": (
            f"{app_url}/dashboard",
            lua_request("GET", {"Cookie": client_cookie}, None),
        ),
        "transition request_documents": (f"{app_url}/", transitions),
    }
    # each request answers as a user would see it before it is measured (a 4xx looks fast)
    checks = {
        "marketplace search (filters)": (search, None, 200, 'id="expert-'),
        # the directory as the header's link opens it: every listed expert, best first
        "marketplace, no filter": (f"{app_url}/experts/", None, 200, 'id="expert-'),
        "dossier page (client)": (cases["dossier page (client)"][0], client_cookie, 200, "/logout"),
        "client dashboard": (f"{app_url}/dashboard", client_cookie, 200, "/logout"),
    }
    for name, (url, cookie, status, needle) in checks.items():
        resp = requests.get(url, headers={"Cookie": cookie} if cookie else {})
        assert resp.status_code == status and needle in resp.text, (name, resp.status_code)
    _post_transition(requests.Session(), app_url, entries[0])
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (url, script) in cases.items():
            # every gunicorn worker builds its app and compiles its templates on its first
            # request: two unmeasured seconds keep that out of the figures
            warm = Path(tmp) / "warm.lua"
            warm.write_text(script)
            subprocess.run(
                ["wrk", "-t2", "-c16", "-d2s", "-s", str(warm), url], capture_output=True
            )
            results[name] = wrk_script(url, script, Path(tmp))
    print("\n## Dossiers: wrk -t2 -c16 (16 concurrent users), scale dataset")
    for name, r in results.items():
        print(
            f"{name:30} {r['rps']:7.0f} req/s  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
            f"p99 {r['p99']:6.1f} ms  CPU {r['cpu_ms']:5.2f} ms/req"
        )
    # the same requests from one user at a time: the latency a user sees on a quiet server
    settle("16 users' transitions")
    one_user = {
        name: (url, lua_request("GET", {"Cookie": cookie} if cookie else {}, None))
        for name, (url, cookie, _s, _n) in checks.items()
    }
    one_user["transition request_documents"] = cases["transition request_documents"]
    quiet = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (url, script) in one_user.items():
            quiet[name] = wrk_script(url, script, Path(tmp), users=1)
    print("\n## Dossiers: one user at a time (wrk -t1 -c1), scale dataset")
    for name, r in quiet.items():
        print(f"{name:30} p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  ({r['n']} requests)")
    results["alone"] = quiet
    return results


def upload_memory(app_url: str) -> dict:
    """RSS of every web worker before and after a 20 MB upload; the largest growth counts."""
    master = int(os.environ["APP_PID"])
    dossier_id, client_id, _ = _pick("pending_upload", with_expert=False, code="TICPE")
    http, token, _cookie = _http_as(app_url, client_id)
    before = {pid: _rss_kb(pid) for pid in _workers(master)}
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(b"%PDF-1.4\n" + b"0" * (SIZE_20MB - 9))
        f.flush()
        f.seek(0)
        resp = http.post(
            f"{app_url}/dossiers/{dossier_id}/documents",
            data={
                "csrf_token": token,
                "step": "eligibility",
                "label": "Factures de carburant des 12 derniers mois",
            },
            files={"files": ("carburant.pdf", f, "application/pdf")},
            allow_redirects=False,
        )
    assert resp.status_code == 303, f"upload: {resp.status_code}"
    after = {pid: _rss_kb(pid) for pid in _workers(master)}
    growth = max(after.get(pid, 0) - kb for pid, kb in before.items()) / 1024
    print(f"\n## Upload of a 20 MB file: largest web worker growth {growth:.1f} MB")
    return {"growth_mb": growth}
