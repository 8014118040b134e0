"""The pipeline and the support queue live (A11): the team's sockets join the `sales` and
`support` rooms on connecting (others may not), a lead moved or a ticket answered reaches them
as an id-only signal, and the requester hears about their own ticket only."""

import queue
import re

from app.models import Role
from tests.factories import make_user
from tests.realtime.test_socket import connect, login_http, session_cookie


def _post(base, email, path, data):
    http = login_http(base, email)
    page = http.get(f"{base}/help").text
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    resp = http.post(f"{base}{path}", data={"csrf_token": token, **data}, allow_redirects=False)
    assert resp.status_code == 303, resp.status_code
    return resp


def test_a_ticket_answered_reaches_the_team_and_its_requester_only(app, live_server):
    make_user(app, Role.CLIENT, email="client@example.fr")
    make_user(app, Role.CLIENT, email="other@example.fr")
    make_user(app, Role.SUPPORT, email="agent@example.fr")
    agent, agent_heard = connect(live_server, session_cookie(live_server, "agent@example.fr"))
    requester, requester_heard = connect(
        live_server, session_cookie(live_server, "client@example.fr")
    )
    other, other_heard = connect(live_server, session_cookie(live_server, "other@example.fr"))
    try:
        assert other.call("subscribe", {"room": "support"}, timeout=5) == {"ok": False}
        assert other.call("subscribe", {"room": "sales"}, timeout=5) == {"ok": False}
        resp = _post(
            live_server,
            "client@example.fr",
            "/support/new",
            {"category": "other", "priority": "medium", "subject": "Aide", "body": "Bonjour"},
        )
        ticket_id = int(resp.headers["Location"].split("/tickets/")[1].split("?")[0])
        seen = [agent_heard.get(timeout=5) for _ in range(2)]  # its notification and the signal
        assert {"event": "ticket:changed", "ticket_id": ticket_id} in seen
        assert requester_heard.get(timeout=5) == {"event": "ticket:changed", "ticket_id": ticket_id}
        _post(
            live_server,
            "agent@example.fr",
            f"/support/tickets/{ticket_id}/reply",
            {"body": "Voilà"},
        )
        assert requester_heard.get(timeout=5) == {"event": "ticket:changed", "ticket_id": ticket_id}
        try:
            stray = other_heard.get(timeout=0.5)
        except queue.Empty:
            stray = None
        assert stray is None
    finally:
        for s in (agent, requester, other):
            s.disconnect()


def test_a_lead_moved_reaches_the_sales_room(app, live_server):
    make_user(app, Role.SALES, email="vendeur@example.fr")
    seller, heard = connect(live_server, session_cookie(live_server, "vendeur@example.fr"))
    try:
        resp_page = login_http(live_server, "vendeur@example.fr")
        page = resp_page.get(f"{live_server}/help").text
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        resp = resp_page.post(
            f"{live_server}/crm/leads/new",
            data={
                "csrf_token": token,
                "company": "Lune",
                "contact_name": "Léa",
                "email": "l@lune.fr",
            },
            allow_redirects=False,
        )
        assert resp.status_code == 303
        lead_id = int(resp.headers["Location"].rsplit("/", 1)[1])
        assert heard.get(timeout=5) == {"event": "lead:changed", "lead_id": lead_id}
    finally:
        seller.disconnect()
