"""Conversations live, against the real realtime server: a message posted over HTTP reaches the
other participant's socket, typing reaches the thread's room and nobody else, presence."""

import queue
import re

from app.extensions import db
from app.models import ApprovalStatus, Dossier, DossierStatus, Product, Role
from tests.factories import make_user
from tests.realtime.test_socket import connect, login_http


def _client_expert_dossier(app, tag: str) -> tuple[int, int, int]:
    """A client and an approved expert sharing a dossier in audit, and a third user
    (`<tag>-other@`) who shares nothing; returns (client id, expert id, dossier id)."""
    client_id = make_user(app, Role.CLIENT, email=f"{tag}-cli@example.fr")
    expert_id = make_user(
        app, Role.EXPERT, email=f"{tag}-exp@example.fr", approval_status=ApprovalStatus.APPROVED
    )
    make_user(app, Role.CLIENT, email=f"{tag}-other@example.fr")
    with app.app_context():
        product = db.session.scalar(db.select(Product.id).where(Product.code == "TICPE"))
        dossier = Dossier(
            client_id=client_id,
            product_id=product,
            expert_id=expert_id,
            status=DossierStatus.AUDIT_IN_PROGRESS,
        )
        db.session.add(dossier)
        db.session.commit()
        return client_id, expert_id, dossier.id


def _drain(q):
    found = []
    while True:
        try:
            found.append(q.get(timeout=0.3))
        except queue.Empty:
            return found


def test_message_typing_and_presence_reach_only_the_thread(app, live_server):
    client_id, expert_id, dossier_id = _client_expert_dossier(app, "live")
    cli_http = login_http(live_server, "live-cli@example.fr")
    thread_url = cli_http.get(f"{live_server}/messages/dossier/{dossier_id}").url
    thread_id = int(thread_url.rstrip("/").rsplit("/", 1)[1])
    cookie = lambda http: "; ".join(f"{c.name}={c.value}" for c in http.cookies)  # noqa: E731
    exp_http = login_http(live_server, "live-exp@example.fr")
    cli, cli_got = connect(live_server, cookie(cli_http))
    exp, exp_got = connect(live_server, cookie(exp_http))
    other, other_got = connect(
        live_server, cookie(login_http(live_server, "live-other@example.fr"))
    )
    try:
        assert other.call("subscribe", {"room": f"thread:{thread_id}"}, timeout=5) == {"ok": False}
        for sock in (cli, exp):
            assert sock.call("subscribe", {"room": f"thread:{thread_id}"}, timeout=5) == {
                "ok": True
            }
        # presence: both are online for the thread page
        page = exp_http.get(thread_url).text
        assert re.search(r'class="dot dot--on"', page)

        page = cli_http.get(thread_url).text
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        resp = cli_http.post(
            thread_url, data={"csrf_token": token, "body": "Bonjour"}, allow_redirects=False
        )
        assert resp.status_code == 303
        got = exp_got.get(timeout=5)
        assert got["event"] == "message:new" and got["thread_id"] == thread_id
        assert set(got) == {"event", "thread_id", "message_id"}

        assert cli.call("typing", {"thread_id": thread_id}, timeout=5) == {"ok": True}
        typing = [m for m in _drain(exp_got) if m["event"] == "thread:typing"]
        assert typing == [{"event": "thread:typing", "thread_id": thread_id, "user_id": client_id}]
        # throttled: a second signal within 3 s is not sent
        cli.call("typing", {"thread_id": thread_id}, timeout=5)
        assert not [m for m in _drain(exp_got) if m["event"] == "thread:typing"]
        assert not [m for m in _drain(cli_got) if m["event"] == "thread:typing"]  # not to self
        assert other.call("typing", {"thread_id": thread_id}, timeout=5) == {"ok": False}
        assert _drain(other_got) == []
    finally:
        for sock in (cli, exp, other):
            sock.disconnect()


def test_two_realtime_processes_deliver_across(app, live_server, second_realtime):
    """The client's socket is on one process, the expert's on another: message, read receipt,
    typing and presence still arrive (the Redis message queue), and a stranger gets nothing."""
    client_id, expert_id, dossier_id = _client_expert_dossier(app, "two")
    cookie = lambda http: "; ".join(f"{c.name}={c.value}" for c in http.cookies)  # noqa: E731
    cli_http = login_http(live_server, "two-cli@example.fr")
    exp_http = login_http(live_server, "two-exp@example.fr")
    thread_url = cli_http.get(f"{live_server}/messages/dossier/{dossier_id}").url
    thread_id = int(thread_url.rstrip("/").rsplit("/", 1)[1])
    room = {"room": f"thread:{thread_id}"}
    cli, cli_got = connect(live_server, cookie(cli_http))
    exp, exp_got = connect(second_realtime, cookie(exp_http))
    other, other_got = connect(
        second_realtime, cookie(login_http(live_server, "two-other@example.fr"))
    )
    try:
        assert cli.call("subscribe", room, timeout=5) == {"ok": True}
        _drain(cli_got)
        # presence: the expert opens the thread on the other process; the client is told
        assert exp.call("subscribe", room, timeout=5) == {"ok": True}
        got = [m for m in _drain(cli_got) if m["event"] == "thread:presence"]
        assert got == [{"event": "thread:presence", "thread_id": thread_id, "user_id": expert_id}]

        page = cli_http.get(thread_url).text
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        cli_http.post(thread_url, data={"csrf_token": token, "body": "Bonjour"})
        got = exp_got.get(timeout=5)
        assert got["event"] == "message:new" and got["thread_id"] == thread_id

        # read receipt: the expert reads the thread, the client's socket hears it
        exp_http.get(thread_url)
        read = [m for m in _drain(cli_got) if m["event"] == "message:read"]
        assert read == [{"event": "message:read", "thread_id": thread_id}]

        assert exp.call("typing", {"thread_id": thread_id}, timeout=5) == {"ok": True}
        typing = [m for m in _drain(cli_got) if m["event"] == "thread:typing"]
        assert typing == [{"event": "thread:typing", "thread_id": thread_id, "user_id": expert_id}]

        # the expert closes their only socket: the client sees them leave at once
        exp.disconnect()
        gone = [m for m in _drain(cli_got) if m["event"] == "thread:presence"]
        assert gone == [{"event": "thread:presence", "thread_id": thread_id, "user_id": expert_id}]
        presence = cli_http.get(f"{thread_url}/presence", headers={"HX-Request": "true"}).text
        assert "dot--on" not in presence
        assert _drain(other_got) == []
    finally:
        for sock in (cli, exp, other):
            sock.disconnect()
