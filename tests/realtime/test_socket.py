"""A real gunicorn/gevent realtime server, python-socketio clients, signals from an RQ job."""

import os
import queue
import re
import threading
from datetime import timedelta

import pytest
import requests
import socketio

from app.models import Role, utcnow
from tests.factories import PASSWORD, make_user


def login_http(base_url: str, email: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{base_url}/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = http.post(
        f"{base_url}/login",
        data={"csrf_token": token, "email": email, "password": PASSWORD},
        allow_redirects=False,
    )
    assert resp.status_code == 303
    return http


def session_cookie(base_url: str, email: str) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in login_http(base_url, email).cookies)


def connect(base_url: str, cookie: str | None):
    received: queue.Queue = queue.Queue()
    ready = threading.Event()
    client = socketio.Client(reconnection=False)
    client.on("notify", received.put)
    client.on("ready", lambda *_: ready.set())
    client.connect(
        base_url,
        headers={"Cookie": cookie} if cookie else {},
        transports=["websocket"],
        wait_timeout=5,
    )
    _wait_until_the_queue_reaches(client, ready)
    return client, received


def _wait_until_the_queue_reaches(client: socketio.Client, ready: threading.Event) -> None:
    """A realtime process subscribes to the Redis queue in the background after its first
    connection; anything published before that is lost. Probe through the queue until this
    socket hears it, so a test never races the subscription."""
    publisher = socketio.RedisManager(
        os.environ["REDIS_URL"],
        channel=os.environ.get("SOCKETIO_CHANNEL", "financialtracker-socketio"),
        write_only=True,
    )
    for _ in range(100):
        publisher.emit("ready", {}, room=client.get_sid(), namespace="/")
        if ready.wait(0.05):
            return
    raise AssertionError("the realtime process never heard the message queue")


def test_anonymous_connect_is_refused(live_server):
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect(live_server, None)


def test_signal_from_a_worker_job_reaches_the_user(app, live_server, run_jobs):
    uid = make_user(
        app,
        role=Role.CLIENT,
        email="late@example.fr",
        verified=False,
        created_at=utcnow() - timedelta(hours=30),
    )
    make_user(app, role=Role.CLIENT, email="other@example.fr")
    client, received = connect(live_server, session_cookie(live_server, "late@example.fr"))
    other, other_received = connect(live_server, session_cookie(live_server, "other@example.fr"))
    try:
        from app.core.jobs import enqueue

        with app.app_context():
            enqueue("default", "app.services.accounts.jobs.remind_unverified_emails")
        run_jobs()
        data = received.get(timeout=5)
        assert data["event"] == "notification:new" and isinstance(data["notification_id"], int)
        assert set(data) == {"event", "notification_id"}  # ids only, no personal data
        with pytest.raises(queue.Empty):
            other_received.get(timeout=0.5)
        assert uid
    finally:
        client.disconnect()
        other.disconnect()


def test_subscribe_is_permission_checked(app, live_server):
    alice = make_user(app, email="alice@example.fr")
    bob = make_user(app, email="bob@example.fr")
    client, received = connect(live_server, session_cookie(live_server, "alice@example.fr"))
    try:
        assert client.call("subscribe", {"room": f"user:{bob}"}, timeout=5) == {"ok": False}
        assert client.call("subscribe", {"room": "admins"}, timeout=5) == {"ok": False}
        assert client.call("subscribe", {"room": f"user:{alice}"}, timeout=5) == {"ok": True}
        with app.app_context():
            from app.realtime import notify

            notify.to_user(bob, "notification:new", notification_id=1)
            notify.to_admins("approvals:changed", user_id=1)
            notify.to_user(alice, "notification:read")
        assert received.get(timeout=5) == {"event": "notification:read"}
        with pytest.raises(queue.Empty):
            received.get(timeout=0.5)
    finally:
        client.disconnect()


def test_admins_room_receives_application_signals(app, live_server):
    make_user(app, role=Role.ADMIN, email="boss@example.fr")
    client, received = connect(live_server, session_cookie(live_server, "boss@example.fr"))
    try:
        http = requests.Session()
        page = http.get(f"{live_server}/apply/expert").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        resp = http.post(
            f"{live_server}/apply/expert",
            data={
                "csrf_token": token,
                "first_name": "Élise",
                "last_name": "Garnier",
                "email": "elise@energie.fr",
                "password": "energie-2026-x",
                "confirm": "energie-2026-x",
                "accept": "y",
            },
            allow_redirects=False,
        )
        assert resp.status_code == 303
        events = {received.get(timeout=5)["event"] for _ in range(2)}
        assert events == {"notification:new", "approvals:changed"}
    finally:
        client.disconnect()


def test_a_transactions_signals_leave_once_it_commits_and_reach_each_socket_once(app, live_server):
    boss = make_user(app, role=Role.ADMIN, email="boss@example.fr")
    carl = make_user(app, email="carl@example.fr")
    admin, to_admin = connect(live_server, session_cookie(live_server, "boss@example.fr"))
    client, to_client = connect(live_server, session_cookie(live_server, "carl@example.fr"))
    try:
        from app.extensions import db
        from app.models import User
        from app.realtime import notify

        with app.app_context():
            db.session.get(User, boss)  # a transaction is open
            for room in (f"user:{boss}", f"user:{carl}"):
                notify.signal(room, "dossier:changed", dossier_id=7)
            notify.to_admins("dossier:changed", dossier_id=7)  # the boss is in both rooms
            notify.to_user(carl, "notification:read")
            with pytest.raises(queue.Empty):
                to_client.get(timeout=0.5)  # nothing before the commit
            db.session.commit()
            db.session.get(User, boss)
            notify.to_user(carl, "notification:new", notification_id=1)
            db.session.rollback()  # never sent
        assert to_admin.get(timeout=5) == {"event": "dossier:changed", "dossier_id": 7}
        got = [to_client.get(timeout=5), to_client.get(timeout=5)]
        assert got == [
            {"event": "dossier:changed", "dossier_id": 7},
            {"event": "notification:read"},
        ]
        for received in (to_admin, to_client):
            with pytest.raises(queue.Empty):
                received.get(timeout=0.5)
    finally:
        admin.disconnect()
        client.disconnect()
