"""Web Push: keys, subscriptions, delivery encrypted for the browser (decrypted here by a
local push endpoint), and subscriptions the push service says are gone are dropped."""

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from app.extensions import db
from app.models import Notification, PushDelivery, PushStatus, PushSubscription, Role, User
from app.services import notifications
from app.services.notifications import preferences, push
from tests.factories import login, make_user, post


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Endpoint:
    """A push service on loopback: records what it receives, answers 201, 410 or 500."""

    def __init__(self):
        self.received: list[tuple[str, bytes, dict]] = []
        self.broken = True  # "/broken" answers 500 while this is set
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                owner.received.append(
                    (
                        self.path,
                        self.rfile.read(length),
                        {k.lower(): v for k, v in self.headers.items()},
                    )
                )
                if self.path.endswith("/gone"):
                    self.send_response(410)
                elif self.path.endswith("/broken") and owner.broken:
                    self.send_response(500)
                else:
                    self.send_response(201)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def vapid(app, monkeypatch):
    private, public = push.generate_keys()
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", private)
    monkeypatch.setitem(app.config, "VAPID_PUBLIC_KEY", public)
    return public


def test_keygen_prints_a_usable_pair(app):
    out = app.test_cli_runner().invoke(args=["push", "keygen"]).output
    private = out.split("VAPID_PRIVATE_KEY=")[1].split()[0]
    public = out.split("VAPID_PUBLIC_KEY=")[1].split()[0]
    assert len(base64.urlsafe_b64decode(private + "==")) == 32
    assert len(base64.urlsafe_b64decode(public + "==")) == 65


def test_delivery_is_encrypted_for_the_browser_and_gone_ones_are_dropped(
    app, client, vapid, run_jobs
):
    endpoint = Endpoint()
    receiver = ec.generate_private_key(ec.SECP256R1())
    public = receiver.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    auth = os.urandom(16)
    user_id = make_user(app, Role.CLIENT, email="push@example.fr")
    login(client, "push@example.fr")
    # push is offered now that the platform has keys; the user turns it on for money matters
    html = client.get("/account/notifications").get_data(as_text=True)
    assert 'value="money:push"' in html and vapid in html
    on = ["money:push", "money:in_app"]
    assert post(client, "/account/notifications", {"on": on}).status_code == 303
    for path in ("/sub/alive", "/sub/gone", "/sub/broken"):
        resp = client.post(
            "/account/push/subscribe",
            json={
                "endpoint": endpoint.url + path,
                "keys": {"p256dh": b64(public), "auth": b64(auth)},
            },
            headers={"X-CSRFToken": _token(client)},
        )
        assert resp.status_code == 200, resp.get_data(as_text=True)
    bad = client.post(
        "/account/push/subscribe", json={"endpoint": ""}, headers={"X-CSRFToken": _token(client)}
    )
    assert bad.status_code == 422
    with app.test_request_context():
        user = db.session.get(User, user_id)
        assert preferences.wants(user, "invoice_issued", "push")
        notifications.create(
            user, "invoice_issued", "Facture FT-2026-00001", body="4 500 €", link="/x"
        )
        db.session.commit()
    run_jobs()
    paths = sorted(set(p for p, _body, _h in endpoint.received))
    assert paths == ["/sub/alive", "/sub/broken", "/sub/gone"]
    body, headers = next((b, h) for p, b, h in endpoint.received if p == "/sub/alive")
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["authorization"].startswith("vapid")
    clear = http_ece.decrypt(body, private_key=receiver, auth_secret=auth, version="aes128gcm")
    assert json.loads(clear) == {"title": "Facture FT-2026-00001", "body": "4 500 €", "link": "/x"}
    with app.app_context():
        left = db.session.scalars(
            db.select(PushSubscription.endpoint).order_by(PushSubscription.endpoint)
        ).all()
        assert left == [endpoint.url + "/sub/alive", endpoint.url + "/sub/broken"]
        assert db.session.scalar(db.select(db.func.count(Notification.id))) == 1
        by_service = {
            d.last_error.split()[0] if d.last_error else "": (d.status, d.attempts)
            for d in db.session.scalars(db.select(PushDelivery))
        }
        # sent once; gone at once and not retried; the broken one retried, then failed
        assert sorted(by_service.values()) == [
            (PushStatus.FAILED, 4),
            (PushStatus.GONE, 1),
            (PushStatus.SENT, 1),
        ]
        failed = db.session.scalar(
            db.select(PushDelivery.id).where(PushDelivery.status == PushStatus.FAILED)
        )

    # the admin sees the outbox of pushes and sends the failed one again, now that it works
    make_user(app, Role.ADMIN, email="push-admin@example.fr")
    login(client, "push-admin@example.fr")
    page = client.get("/admin/pushes?status=failed").get_data(as_text=True)
    assert "Facture FT-2026-00001" in page and "push@example.fr" in page and "500" in page
    endpoint.broken = False
    assert post(client, f"/admin/pushes/{failed}/resend", {}).status_code == 303
    run_jobs()
    with app.app_context():
        row = db.session.get(PushDelivery, failed)
        assert (row.status, row.attempts) == (PushStatus.SENT, 1)
    assert "Facture" not in client.get("/admin/pushes?status=failed").get_data(as_text=True)
    endpoint.server.shutdown()


def test_a_stranger_cannot_see_or_resend_pushes(app, client):
    make_user(app, Role.CLIENT, email="nosy-push@example.fr")
    login(client, "nosy-push@example.fr")
    assert client.get("/admin/pushes").status_code in (403, 404)
    assert post(client, "/admin/pushes/1/resend", {}).status_code in (403, 404)


def test_push_is_not_offered_without_keys(app, client):
    make_user(app, Role.CLIENT, email="nopush@example.fr")
    login(client, "nopush@example.fr")
    html = client.get("/account/notifications").get_data(as_text=True)
    assert "push" not in html.lower().split("<main")[1].split("</main>")[0]
    resp = client.post(
        "/account/push/subscribe",
        json={"endpoint": "https://x"},
        headers={"X-CSRFToken": _token(client)},
    )
    assert resp.status_code == 404


def _token(client) -> str:
    from tests.factories import csrf_token

    return csrf_token(client)
