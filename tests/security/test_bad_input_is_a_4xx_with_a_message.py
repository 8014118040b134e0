"""Defect: unchecked integers and numbers gave 500 (a product id beyond 64 bits, a turnover of
1e23, an unknown status filter, CR/LF in `next=`, deeply nested JSON), and the JSON API read
60 MB bodies. Every one of them is now a 4xx with a message, before any query runs."""

import pytest

from app.models import Role
from tests.factories import login, make_user, post

HUGE = "9223372036854775808"


@pytest.fixture
def client_user(app, client):
    make_user(app, Role.CLIENT, email="c@example.fr")
    login(client, "c@example.fr")
    return client


@pytest.mark.parametrize(
    "path",
    [
        f"/experts/?product={HUGE}",
        f"/experts/?product={HUGE}&after={HUGE}",
        f"/experts/?dossier={HUGE}",
        f"/dossiers/?after={HUGE}",
        "/dossiers/?status=not-a-status",
        f"/dossiers/{HUGE}",
        "/dossiers/99999999999",
        f"/messages/{HUGE}",
        f"/messages/?before={HUGE}",
        f"/notifications/?before={HUGE}",
        f"/dossiers/documents/{HUGE}",
    ],
)
def test_numbers_beyond_the_database_are_not_a_server_error(client_user, path):
    resp = client_user.get(path)
    assert resp.status_code in (200, 404), (path, resp.status_code)


def test_a_huge_turnover_is_a_form_error_with_the_value_kept(client_user):
    form = {
        "first_name": "Claire",
        "last_name": "Martin",
        "locale": "fr",
        "timezone": "Europe/Paris",
        "company_name": "Transports Test SAS",
        "siren": "732829320",
        "sector": "Transport et Logistique",
    }
    for turnover in ("1" + "0" * 23, "1e23", "１２"):
        resp = post(client_user, "/account/profile", {**form, "turnover": turnover})
        assert resp.status_code == 422, turnover
        assert turnover in resp.get_data(as_text=True)


@pytest.mark.parametrize("target", ["/%0d%0aSet-Cookie:x=1", "/ok%0aLocation:%20//evil.example"])
def test_a_line_break_in_next_is_ignored(app, client, target):
    make_user(app, Role.CLIENT, email="c@example.fr")
    resp = post(
        client, f"/login?next={target}", {"email": "c@example.fr", "password": "correct-horse-42"}
    )
    assert resp.status_code == 303
    assert "\n" not in resp.headers["Location"] and "evil" not in resp.headers["Location"]
    assert "Set-Cookie" not in resp.headers["Location"]


def test_deeply_nested_json_is_refused_with_a_message(client):
    body = '{"answers": ' + "[" * 100_000 + "]" * 100_000 + "}"
    resp = client.post("/api/v1/simulations", data=body, content_type="application/json")
    assert resp.status_code in (400, 413, 422)
    assert "errors" in resp.get_json()


def test_the_api_refuses_a_body_over_its_size(client):
    body = '{"answers": {"GENERAL_001": "' + "x" * (2 * 1024 * 1024) + '"}}'
    resp = client.post("/api/v1/simulations", data=body, content_type="application/json")
    assert resp.status_code == 413
    data = resp.get_json()
    assert "errors" in data and "x" * 100 not in resp.get_data(as_text=True)


def test_the_api_never_echoes_a_long_value(client):
    resp = client.post("/api/v1/simulations", json={"answers": {"GENERAL_001": "y" * 5000}})
    assert resp.status_code == 422
    assert "y" * 200 not in resp.get_data(as_text=True)


def test_back_after_marking_a_notification_read_stays_on_the_site(app, client):
    from app.extensions import db
    from app.models import Notification

    uid = make_user(app, Role.CLIENT, email="c@example.fr")
    with app.app_context():
        note = Notification(user_id=uid, type="dossier_event", title="t", body="")
        db.session.add(note)
        db.session.commit()
        note_id = note.id
    login(client, "c@example.fr")
    for back in ("https://evil.example/x", "//evil.example", "/\\evil.example"):
        resp = post(client, f"/notifications/{note_id}/read", {"back": back})
        assert resp.status_code == 303 and "evil" not in resp.headers["Location"], back
    resp = post(client, f"/notifications/{note_id}/read", {"back": "/dossiers/"})
    assert resp.headers["Location"].endswith("/dossiers/")
