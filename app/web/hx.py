"""The only module that knows htmx's HX-* header names."""

import json

from flask import (
    Flask,
    Response,
    get_flashed_messages,
    make_response,
    redirect,
    request,
)


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment(target: str | None = None) -> bool:
    """True for an htmx request that swaps part of a page (not boosted navigation or history)."""
    h = request.headers
    if not is_htmx() or h.get("HX-Boosted") == "true":
        return False
    if h.get("HX-History-Restore-Request") == "true":
        return False
    if target is None:
        return True
    hx_target = h.get("HX-Target", "")
    return hx_target == target or hx_target.endswith("#" + target)


def with_trigger(body, event: str, detail=None, status: int = 200) -> Response:
    resp = make_response(body, status)
    _merge_trigger(resp, {event: detail if detail is not None else True})
    return resp


def retarget(body, status: int, target: str, swap: str = "outerHTML") -> Response:
    resp = make_response(body, status)
    resp.headers["HX-Retarget"] = target
    resp.headers["HX-Reswap"] = swap
    return resp


def redirect_to(url: str) -> Response:
    """Post/redirect/get for both worlds: htmx ignores HX-* headers on a 3xx, so it gets 204 +
    HX-Location (a boosted-style navigation); a plain form gets a 303."""
    if is_htmx():
        resp = Response(status=204)
        resp.headers["HX-Location"] = json.dumps({"path": url, "target": "body"})
        return resp
    return redirect(url, 303)


def _merge_trigger(resp: Response, events: dict) -> None:
    current = resp.headers.get("HX-Trigger", "")
    merged = (
        json.loads(current)
        if current.startswith("{")
        else {name.strip(): True for name in current.split(",") if name.strip()}
    )
    merged.update(events)
    # ensure_ascii (the default) keeps accented toasts latin-1 safe in a header
    resp.headers["HX-Trigger"] = json.dumps(merged)


def init_app(app: Flask) -> None:
    @app.after_request
    def _htmx_headers(resp: Response) -> Response:
        resp.vary.add("HX-Request")  # a page and its fragment share URLs
        navigating = "HX-Location" in resp.headers or "HX-Redirect" in resp.headers
        # a fragment refreshed by a live signal must not eat the flash the user's own action
        # left for the page it is navigating to (the two requests race)
        live = request.headers.get("X-Live-Refresh") == "1"
        if wants_fragment() and resp.status_code < 300 and not navigating and not live:
            # full pages render flashes themselves; fragments carry them as toast events
            toasts = [
                {"level": c, "text": m} for c, m in get_flashed_messages(with_categories=True)
            ]
            if toasts:
                _merge_trigger(resp, {"toast": toasts})
        return resp
