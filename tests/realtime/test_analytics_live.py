"""The admin dashboard live (issue 28 §1): a change of the facts reaches the admins' sockets as
an id-less `analytics:changed` signal, and nobody else's."""

import queue

from app.extensions import db
from app.models import Role
from tests.factories import make_user
from tests.factories.models import gen_dossier
from tests.realtime.test_socket import connect, session_cookie


def _quiet(heard, wait=0.7):
    try:
        return heard.get(timeout=wait)
    except queue.Empty:
        return None


def test_a_new_dossier_tells_the_admins_dashboards(app, live_server):
    make_user(app, Role.ADMIN, email="boss@example.fr")
    make_user(app, Role.CLIENT, email="client@example.fr")
    admin, admin_heard = connect(live_server, session_cookie(live_server, "boss@example.fr"))
    client, client_heard = connect(live_server, session_cookie(live_server, "client@example.fr"))
    try:
        with app.app_context():
            gen_dossier(db.session)
            db.session.commit()
        seen = [admin_heard.get(timeout=5)]
        while (more := _quiet(admin_heard)) is not None:
            seen.append(more)
        assert {"event": "analytics:changed"} in seen
        assert {"event": "analytics:changed"} not in [_quiet(client_heard) for _ in range(3)]
    finally:
        admin.disconnect()
        client.disconnect()
