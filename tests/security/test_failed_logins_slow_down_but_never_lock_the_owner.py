"""Guessing passwords gets slower and slower; nothing a guesser does locks the owner out.

Before: Flask-Limiter counted failures per email for an hour, so ten wrong passwords sent from
anywhere locked the real owner out of their own account."""

import re
from datetime import timedelta

from app.extensions import db
from app.models import LoginThrottle, utcnow
from tests.factories import PASSWORD, login, make_user, post

WRONG = "not-the-password-1"


def attempt(client, email, password=WRONG, ip="203.0.113.7"):
    return post(
        client, "/login", {"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def time_passes(app, seconds):
    """Move every wait `seconds` into the past, as if the guesser had waited."""
    with app.app_context():
        for row in db.session.scalars(db.select(LoginThrottle)):
            if row.locked_until is not None:
                row.locked_until -= timedelta(seconds=seconds)
        db.session.commit()


def test_each_failure_past_the_free_ones_doubles_the_wait_up_to_a_cap(app, client):
    make_user(app, email="owner@example.fr")
    free = app.config["LOGIN_FREE_ATTEMPTS"]
    for n in range(free):
        assert attempt(client, "owner@example.fr", ip=f"198.51.100.{n}").status_code == 422
    waits = []
    for n in range(8):
        resp = attempt(client, "owner@example.fr", ip=f"198.51.100.{50 + n}")
        assert resp.status_code == 429
        waits.append(int(resp.headers["Retry-After"]))
        # while it waits, even the right password is refused without being checked
        refused = attempt(client, "owner@example.fr", PASSWORD, ip=f"198.51.100.{50 + n}")
        assert refused.status_code == 429 and "Patientez" in refused.get_data(as_text=True)
        time_passes(app, waits[-1])
    assert waits == [15, 30, 60, 120, 240, 480, 900, 900]  # doubling, capped at 15 minutes
    # the wait over, the right password works, and the count starts again from zero
    login(client, "owner@example.fr")
    with app.app_context():
        assert db.session.get(LoginThrottle, "ip:198.51.100.57") is not None  # the IP's stays
        assert not db.session.scalars(
            db.select(LoginThrottle).where(LoginThrottle.key.like("account:%"))
        ).all()


def test_a_guesser_elsewhere_does_not_slow_the_owners_own_browser(app):
    make_user(app, email="owner@example.fr")
    owners_laptop, guesser = app.test_client(), app.test_client()
    login(owners_laptop, "owner@example.fr")  # this browser now carries a device cookie
    assert post(owners_laptop, "/logout").status_code == 303
    for n in range(12):  # from many addresses, never the same twice
        attempt(guesser, "owner@example.fr", ip=f"192.0.2.{n}")
    assert attempt(guesser, "owner@example.fr", PASSWORD, ip="192.0.2.99").status_code == 429
    # the owner's laptop logs in at once, and its own typos count on its own key
    resp = attempt(owners_laptop, "owner@example.fr", PASSWORD, ip="192.0.2.1")
    assert resp.status_code == 303
    # a device cookie trusted for one account proves nothing for another
    make_user(app, email="other@example.fr")
    for _ in range(12):
        attempt(owners_laptop, "other@example.fr", ip="192.0.2.200")
    assert attempt(owners_laptop, "other@example.fr", PASSWORD).status_code == 429


def test_a_password_reset_by_email_always_lets_the_owner_in(app, run_jobs, smtp):
    make_user(app, email="owner@example.fr")
    guesser, new_phone = app.test_client(), app.test_client()
    for n in range(12):
        attempt(guesser, "owner@example.fr", ip=f"192.0.2.{n}")
    assert attempt(new_phone, "owner@example.fr", PASSWORD, ip="10.0.0.5").status_code == 429
    assert post(new_phone, "/password/forgot", {"email": "owner@example.fr"}).status_code == 200
    run_jobs()
    [message] = smtp.to("owner@example.fr")
    path = re.search(r"/password/reset/\S+", smtp.body(message)).group(0)
    new = "a-brand-new-pass-9"
    assert post(new_phone, path, {"password": new, "confirm": new}).status_code == 303
    assert attempt(new_phone, "owner@example.fr", new, ip="10.0.0.5").status_code == 303


def test_one_address_guessing_many_accounts_is_slowed_too(app, client):
    free_ip = app.config["LOGIN_FREE_ATTEMPTS_IP"]
    for n in range(free_ip):
        assert attempt(client, f"victim{n}@example.fr", ip="203.0.113.9").status_code == 422
    resp = attempt(client, "victim-next@example.fr", ip="203.0.113.9")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "15"
    # another address is not affected
    assert attempt(client, "victim-next@example.fr", ip="203.0.113.10").status_code == 422


def test_unknown_and_known_addresses_slow_down_alike(app):
    make_user(app, email="known@example.fr")
    answers = {}
    for email in ("known@example.fr", "unknown@example.fr"):
        client = app.test_client()
        answers[email] = [
            attempt(client, email, ip=f"203.0.113.{n}").status_code
            for n in range(app.config["LOGIN_FREE_ATTEMPTS"] + 2)
        ]
    assert answers["known@example.fr"] == answers["unknown@example.fr"]
    assert answers["known@example.fr"][-2:] == [429, 429]


def test_idle_counts_are_forgotten_after_a_day(app, client):
    from app.services.accounts import login_throttle

    for _ in range(3):
        attempt(client, "someone@example.fr", ip="203.0.113.50")
    with app.app_context():
        for row in db.session.scalars(db.select(LoginThrottle)):
            row.last_failed_at = utcnow() - timedelta(hours=25)
        db.session.commit()
        assert login_throttle.purge_idle() == 2
