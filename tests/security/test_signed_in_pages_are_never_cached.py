"""Defect: logged-in pages carried no Cache-Control, so a shared cache or the back button of a
shared computer could show them after logout. Every response to a signed-in browser is
`no-store`; public pages and static files keep their caching."""

import pytest

from app.models import Role
from tests.factories import login, make_user


@pytest.mark.parametrize("path", ["/", "/dossiers/", "/account/profile", "/notifications/"])
def test_every_signed_in_response_is_no_store(app, client, path):
    make_user(app, Role.CLIENT, email="c@example.fr")
    login(client, "c@example.fr")
    resp = client.get(path)
    assert resp.status_code in (200, 302)
    assert resp.headers["Cache-Control"] == "no-store" and "Cookie" in resp.headers["Vary"]


def test_static_files_and_signed_out_pages_keep_their_caching(app, client):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    make_user(app, Role.CLIENT, email="c@example.fr")
    login(client, "c@example.fr")
    resp = client.get("/static/css/app.css")
    assert "no-store" not in resp.headers.get("Cache-Control", "")
