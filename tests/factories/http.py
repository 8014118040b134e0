"""A browser's helpers for the Flask test client: the CSRF token a page carries, a form post,
logging in, the headers htmx sends."""

import re

from tests.factories.models import PASSWORD

HX = {"HX-Request": "true"}


def csrf_token(client) -> str:
    page = client.get("/help").get_data(as_text=True)
    return re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)


def post(client, url, data=None, htmx=False, csrf=True, **kwargs):
    data = dict(data or {})
    if csrf:
        data.setdefault("csrf_token", csrf_token(client))
    headers = dict(HX) if htmx else {}
    headers.update(kwargs.pop("headers", {}))
    return client.post(url, data=data, headers=headers, **kwargs)


def login(client, email, password=PASSWORD):
    resp = post(client, "/login", {"email": email, "password": password})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    return resp
