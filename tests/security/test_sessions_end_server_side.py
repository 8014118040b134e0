"""Defect: after logging out, a copy of the session cookie or the remember-me cookie opened
every page for up to 30 days, and the session named part of the password hash. Each signed-in
browser is now a row with a random key that logout, a password change, a reset or "log out of
all my devices" revokes; its open sockets are closed too."""

import re
import time

import socketio
from flask.sessions import SecureCookieSessionInterface

from app.extensions import db
from app.models import Role, User
from tests.factories import PASSWORD, make_user, post
from tests.realtime.test_socket import connect, login_http


def _signed_in(app, email, remember=False):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": token, "email": email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 303
    return client


def _cookies(client) -> dict[str, str]:
    return {c.key: c.value for c in client._cookies.values()}


def _with_cookies(app, cookies: dict[str, str]):
    copy = app.test_client()
    for name, value in cookies.items():
        copy.set_cookie(name, value)
    return copy


def _opens(client) -> bool:
    return client.get("/account/profile").status_code == 200


def test_a_copied_cookie_opens_nothing_after_logout(app):
    make_user(app, Role.CLIENT, email="c@example.fr")
    browser = _signed_in(app, "c@example.fr", remember=True)
    stolen = _cookies(browser)
    assert "remember_token" in stolen and _opens(_with_cookies(app, stolen))
    post(browser, "/logout")
    assert not _opens(_with_cookies(app, stolen))
    # the remember-me cookie alone is no better
    assert not _opens(_with_cookies(app, {"remember_token": stolen["remember_token"]}))


def test_a_password_change_logs_out_the_other_devices_only(app):
    make_user(app, Role.CLIENT, email="c@example.fr")
    laptop = _signed_in(app, "c@example.fr")
    phone = _signed_in(app, "c@example.fr", remember=True)
    resp = post(
        laptop,
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "brand-new-pass-7",
            "confirm": "brand-new-pass-7",
        },
    )
    assert resp.status_code == 303
    assert _opens(laptop) and not _opens(phone)


def test_a_password_reset_logs_out_every_device(app, run_jobs, smtp):
    make_user(app, Role.CLIENT, email="c@example.fr")
    phone = _signed_in(app, "c@example.fr", remember=True)
    visitor = app.test_client()
    assert post(visitor, "/password/forgot", {"email": "c@example.fr"}).status_code == 200
    run_jobs()
    [message] = smtp.to("c@example.fr")
    path = re.search(r"/password/reset/\S+", smtp.body(message)).group(0)
    resp = post(visitor, path, {"password": "nouveau-mdp-77", "confirm": "nouveau-mdp-77"})
    assert resp.status_code == 303
    assert not _opens(phone)


def test_log_out_of_all_my_devices(app):
    make_user(app, Role.CLIENT, email="c@example.fr")
    laptop = _signed_in(app, "c@example.fr")
    phone = _signed_in(app, "c@example.fr", remember=True)
    page = laptop.get("/account/password").get_data(as_text=True)
    assert "/account/sessions/end" in page and "2" in page
    assert post(laptop, "/account/sessions/end").status_code == 303
    assert not _opens(laptop) and not _opens(phone)


def test_the_session_names_a_random_key_not_the_password_hash(app):
    uid = make_user(app, Role.CLIENT, email="c@example.fr")
    browser = _signed_in(app, "c@example.fr")
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(_cookies(browser)["session"])
    with app.app_context():
        password_hash = db.session.get(User, uid).password_hash
    user_id, _, key = data["_user_id"].partition(":")
    assert user_id == str(uid) and len(key) >= 32
    assert not any(password_hash[i : i + 8] in key for i in range(0, len(password_hash) - 8))


def test_logout_closes_that_browsers_socket(app, live_server):
    make_user(app, Role.CLIENT, email="c@example.fr")
    http = login_http(live_server, "c@example.fr")
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    other = login_http(live_server, "c@example.fr")  # the same person on another device
    other_cookie = "; ".join(f"{c.name}={c.value}" for c in other.cookies)
    sock, _received = connect(live_server, cookie)
    other_sock, _ = connect(live_server, other_cookie)
    try:
        page = http.get(f"{live_server}/account/profile").text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"', page
        )
        resp = http.post(
            f"{live_server}/logout", data={"csrf_token": token.group(1)}, allow_redirects=False
        )
        assert resp.status_code == 303
        for _ in range(50):
            if not sock.connected:
                break
            time.sleep(0.1)
        assert not sock.connected
        assert other_sock.connected  # only that browser's session ended
        try:
            connect(live_server, cookie)
            raise AssertionError("a logged-out cookie opened a socket")
        except socketio.exceptions.ConnectionError:
            pass
    finally:
        for s in (sock, other_sock):
            if s.connected:
                s.disconnect()
