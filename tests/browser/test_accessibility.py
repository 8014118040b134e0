"""WCAG 2.2 AA, checked by axe-core in Debian's Chromium on every page a visitor and each demo
account can reach in two clicks (the demo data spans the whole workflow, so dossier pages are
seen at every step). Automated rules find only part of real barriers (keyboard order and what a
screen reader says still need a person): this is the floor that must never regress."""

import os
import re
from collections import Counter
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app.seeds.demo import DEMO_DOMAIN, DEMO_PASSWORD
from tests.simulator.test_simulator_engine import GOLDEN

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# links that are not pages: files, feeds for scripts, and the way out
NOT_PAGES = ("/static/", "/logout", "/sw.js", "/download", "/file", "/export", "/cv", "/pdf")


@pytest.fixture
def demo(app):
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output


def _is_page(base: str, href: str) -> bool:
    url = urlsplit(href)
    return (
        href.startswith(base)
        and not url.fragment
        and not any(part in url.path for part in NOT_PAGES)
        and "/api/" not in url.path
    )


def _crawl(context, base: str, starts: list[str], depth=2, limit=80) -> dict[str, list]:
    """Breadth-first over the same-site links, `depth` clicks from `starts`: each HTML page is
    loaded as a reader would see it and checked. Returns {path: violations}."""
    axe = Axe()
    options = {"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]}
    page = context.new_page()
    seen, frontier, found = set(starts), list(starts), {}
    shapes = Counter()  # /admin/catalogue/products/7 and /8 are the same page: six of each
    for _ in range(depth + 1):
        following = []
        for url in frontier:
            head = context.request.get(url)  # not a download, not an error page
            if head.status != 200 or "text/html" not in head.headers.get("content-type", ""):
                continue
            page.goto(url)
            # the settled page: fragments that load themselves (hx-trigger="load") are in
            expect(page.locator(".htmx-request")).to_have_count(0)
            parts = urlsplit(url)
            found[parts.path + (f"?{parts.query}" if parts.query else "")] = [
                (v["id"], v["impact"], [n["html"][:160] for n in v["nodes"][:3]])
                for v in axe.run(page, options=options).response["violations"]
            ]
            for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                href = urljoin(url, href).split("#")[0]
                shape = re.sub(r"\d+", "N", href)
                if _is_page(base, href) and href not in seen and shapes[shape] < 6:
                    if len(seen) < limit:
                        seen.add(href)
                        shapes[shape] += 1
                        following.append(href)
        frontier = following
    page.close()
    return found


def _results_page(context, base: str) -> str:
    """A visitor's results page: the whole questionnaire sent as the no-JS form sends it."""
    page = context.request.get(f"{base}/simulator").text()
    pairs = [("csrf_token", re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))]
    for code, value in GOLDEN.items():
        pairs += [(code, v) for v in value] if isinstance(value, list) else [(code, value)]
    resp = context.request.post(
        f"{base}/simulator",
        data=urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        max_redirects=0,
    )
    assert resp.status == 303, resp.status
    return urljoin(base, resp.headers["location"])


def _logged_in(browser, base: str, local: str):
    context = browser.new_context(locale="fr-FR", reduced_motion="reduce")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#email", f"{local}@{DEMO_DOMAIN}")
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.close()
    return context


# the markup does not depend on the database: checked once, in the PostgreSQL run
@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("sqlite"), reason="checked on PostgreSQL"
)
@pytest.mark.parametrize(
    "who", [None, "client", "expert", "apporteur", "admin", "sales", "support"]
)
def test_every_reachable_page_passes_axe_wcag_aa(app, demo, live_server, browser, who):
    if who is None:  # the home page, and the results of a simulation
        context = browser.new_context(locale="fr-FR", reduced_motion="reduce")
        starts = [f"{live_server}/", _results_page(context, live_server)]
    else:
        context = _logged_in(browser, live_server, who)
        starts = [f"{live_server}/dashboard"]
    found = _crawl(context, live_server, starts)
    context.close()
    assert len(found) >= 5, found  # the crawl really saw the site, not a login redirect
    failing = {path: v for path, v in found.items() if v}
    assert not failing, failing
