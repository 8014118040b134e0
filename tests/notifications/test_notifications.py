import pytest

from app.extensions import db
from app.models import Notification, User
from app.services import messaging, notifications
from tests.factories import HX, login, make_user, post


@pytest.fixture
def two_users(app):
    alice = make_user(app, email="alice@example.fr")
    bob = make_user(app, email="bob@example.fr")
    with app.test_request_context():
        for uid, title in ((alice, "Pour Alice"), (bob, "Pour Bob")):
            user = db.session.get(User, uid)
            notifications.create(
                user, "test", title, link="/account/profile", object_ref=f"user:{uid}"
            )
        db.session.commit()
        ids = dict(db.session.execute(db.select(Notification.user_id, Notification.id)).all())
    return alice, bob, ids


def test_list_badge_and_read(app, client, two_users):
    alice, bob, ids = two_users
    login(client, "alice@example.fr")
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Pour Alice" in page and "Pour Bob" not in page
    badge = client.get("/notifications/badge", headers=HX).get_data(as_text=True)
    assert badge.strip().startswith('<span id="unread-badge"') and ">1<" in badge
    assert client.get("/notifications/badge").status_code == 302  # no fragment for a full page
    resp = post(client, f"/notifications/{ids[alice]}/read", htmx=True)
    item = resp.get_data(as_text=True)
    assert resp.status_code == 200 and f'id="notification-{ids[alice]}"' in item
    assert "notification--unread" not in item
    assert ">0<" in client.get("/notifications/badge", headers=HX).get_data(as_text=True)


def test_open_marks_read_and_follows_link_without_js(app, client, two_users):
    alice, _, ids = two_users
    login(client, "alice@example.fr")
    resp = post(client, f"/notifications/{ids[alice]}/read", {"open": "1"})
    assert resp.status_code == 303 and resp.headers["Location"] == "/account/profile"
    assert notifications_unread(app, alice) == 0


def test_mark_all_read(app, client, two_users):
    alice, bob, _ = two_users
    login(client, "alice@example.fr")
    resp = post(client, "/notifications/read-all")
    assert resp.status_code == 303
    assert notifications_unread(app, alice) == 0 and notifications_unread(app, bob) == 1


def test_foreign_notification_is_404(app, client, two_users):
    _, bob, ids = two_users
    login(client, "alice@example.fr")
    assert post(client, f"/notifications/{ids[bob]}/read").status_code == 404
    assert client.get(f"/notifications/{ids[bob]}/toast", headers=HX).status_code == 404
    assert notifications_unread(app, bob) == 1


def test_toast_fragment(app, client, two_users):
    alice, _, ids = two_users
    login(client, "alice@example.fr")
    body = client.get(f"/notifications/{ids[alice]}/toast", headers=HX).get_data(as_text=True)
    assert 'class="toast' in body and "Pour Alice" in body and "<html" not in body


def notifications_unread(app, uid):
    with app.app_context():
        return messaging.badge_counts(db.session.get(User, uid))[0]
