"""Support tickets (A11): opened from any page and linked to the dossier it came from, worked by
the team, internal notes that the requester never reads on any channel (page, live fragment,
emails, export, JSON), statuses with reopening, merges, rating, the clocks on the business
calendar, replies by email through a real SMTP server, and the queue."""

import io
import re
import smtplib
from datetime import datetime
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from app.core import clock
from app.extensions import db
from app.models import PARIS, Notification, Role, Ticket, TicketMessage, TicketStatus, User
from app.services.support import mailin, sla, tickets
from tests.conftest import free_port
from tests.factories import HX, login, make_user, post
from tests.factories.models import gen_dossier, gen_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NOTE = "Note interne : client difficile, ne pas rembourser"


def _people(app):
    ids = {
        "client": make_user(app, Role.CLIENT, email="client@example.fr", first_name="Claire"),
        "agent": make_user(app, Role.SUPPORT, email="agent@example.fr", first_name="Sarah"),
        "other": make_user(app, Role.CLIENT, email="autre@example.fr"),
        "seller": make_user(app, Role.SALES, email="vendeur@example.fr"),
    }
    return ids


def _open(client, **extra):
    data = {
        "category": "billing",
        "priority": "medium",
        "subject": "Facture en double",
        "body": "J'ai reçu deux fois la même facture.",
        **extra,
    }
    return post(client, "/support/new", data, content_type="multipart/form-data")


def test_a_client_opens_a_ticket_from_a_dossier_page_and_it_is_linked(app, client):
    ids = _people(app)
    with app.test_request_context():
        dossier = gen_dossier(db.session, client=db.session.get(User, ids["client"]))
        db.session.commit()
        dossier_id = dossier.id
    login(client, "client@example.fr")
    page = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    link = (
        re.search(r'href="(/support/new[^"]*)" id="need-help"', page).group(1).replace("&amp;", "&")
    )
    assert f"dossier={dossier_id}" in link
    form = client.get(link).get_data(as_text=True)
    assert f'value="{dossier_id}"' in form
    resp = _open(client, dossier=str(dossier_id), files=(io.BytesIO(PDF), "facture.pdf"))
    assert resp.status_code == 303
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket))
        assert ticket.dossier_id == dossier_id and ticket.status == TicketStatus.NEW
        [message] = db.session.scalars(db.select(TicketMessage)).all()
        assert [a.original_name for a in message.attachments] == ["facture.pdf"]
    # a dossier the requester does not see cannot be named
    other = app.test_client()
    login(other, "autre@example.fr")
    assert _open(other, dossier=str(dossier_id)).status_code == 404


def test_bad_input_and_a_refused_file_keep_what_was_typed(app, client):
    _people(app)
    login(client, "client@example.fr")
    resp = _open(client, subject="", priority="énorme")
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "J&#39;ai reçu deux fois la même facture." in page and "error-summary" in page
    resp = _open(client, files=(io.BytesIO(b"MZ\x90\x00 not a pdf"), "virus.exe"))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "virus.exe" in page and 'value="Facture en double"' in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ticket.id))) == 0


def _ticket_with_note(app, client, smtp, run_jobs):
    """A ticket with a public reply and an internal note; returns its id."""
    _people(app)
    login(client, "client@example.fr")
    _open(client)
    with app.app_context():
        ticket_id = db.session.scalar(db.select(Ticket.id))
    agent = app.test_client()
    login(agent, "agent@example.fr")
    assert (
        post(
            agent, f"/support/tickets/{ticket_id}/reply", {"body": NOTE, "internal": "y"}
        ).status_code
        == 303
    )
    resp = post(
        agent,
        f"/support/tickets/{ticket_id}/reply",
        {"body": "Nous regardons cela.", "status": "pending"},
    )
    assert resp.status_code == 303
    run_jobs()
    return ticket_id, agent


def test_internal_notes_never_reach_the_requester_on_any_channel(app, client, smtp, run_jobs):
    ticket_id, agent = _ticket_with_note(app, client, smtp, run_jobs)
    # the team reads it
    assert NOTE in agent.get(f"/support/tickets/{ticket_id}").get_data(as_text=True)
    assert NOTE in agent.get(f"/support/tickets/{ticket_id}.json").get_data(as_text=True)
    # the requester: not on the page, not in the live fragment, not in the JSON, not in the
    # export, not in any email
    channels = {
        "page": client.get(f"/support/tickets/{ticket_id}"),
        "fragment": client.get(
            f"/support/tickets/{ticket_id}", headers={**HX, "HX-Target": "ticket-thread"}
        ),
        "json": client.get(f"/support/tickets/{ticket_id}.json"),
        "export": client.get(f"/support/tickets/{ticket_id}/transcript.txt"),
    }
    for name, resp in channels.items():
        text = resp.get_data(as_text=True)
        assert resp.status_code == 200, name
        assert "Nous regardons cela." in text, name
        assert "Note interne" not in text and "difficile" not in text, name
    mails = smtp.to("client@example.fr")
    assert len(mails) == 2  # "received", then the public reply
    for mail in mails:
        assert "difficile" not in smtp.body(mail) and "difficile" not in smtp.body(mail, "html")
    assert "Nous regardons cela." in smtp.body(mails[-1])
    # nor its attachments: a file on a note is the team's
    with app.app_context():
        note = db.session.scalar(db.select(TicketMessage).where(TicketMessage.internal.is_(True)))
        assert note.body == NOTE


def test_statuses_reopen_and_rating(app, client, smtp, run_jobs):
    ticket_id, agent = _ticket_with_note(app, client, smtp, run_jobs)
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status == TicketStatus.PENDING and ticket.first_response_at is not None
        assert ticket.resolution_paused_since is not None
        assert ticket.assignee_id is not None  # who answered took it
    # rating before the resolution is refused
    assert post(client, f"/support/tickets/{ticket_id}/rate", {"score": "5"}).status_code == 409
    # the requester's reply reopens it
    assert (
        post(client, f"/support/tickets/{ticket_id}/reply", {"body": "Voici le PDF."}).status_code
        == 303
    )
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status == TicketStatus.OPEN and ticket.resolution_paused_since is None
    # an empty reply comes back with a message
    resp = post(client, f"/support/tickets/{ticket_id}/reply", {"body": "   "})
    assert resp.status_code == 422
    # the requester may not change the status
    assert (
        post(client, f"/support/tickets/{ticket_id}/status", {"status": "closed"}).status_code
        == 409
    )
    assert (
        post(agent, f"/support/tickets/{ticket_id}/status", {"status": "resolved"}).status_code
        == 303
    )
    run_jobs()
    assert "#rate" in smtp.body(smtp.to("client@example.fr")[-1])
    page = client.get(f"/support/tickets/{ticket_id}").get_data(as_text=True)
    assert 'id="rate"' in page
    assert post(client, f"/support/tickets/{ticket_id}/rate", {"score": "9"}).status_code == 422
    assert (
        post(
            client, f"/support/tickets/{ticket_id}/rate", {"score": "4", "comment": "Bien"}
        ).status_code
        == 303
    )
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.satisfaction == 4 and ticket.status == TicketStatus.CLOSED
    # a reply after closing opens it again
    post(
        client, f"/support/tickets/{ticket_id}/reply", {"body": "Finalement, encore une question."}
    )
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).status == TicketStatus.OPEN


def test_merging_moves_the_messages_and_only_for_the_same_requester(app, client):
    ids = _people(app)
    login(client, "client@example.fr")
    _open(client, subject="Premier")
    _open(client, subject="Doublon")
    other = app.test_client()
    login(other, "autre@example.fr")
    _open(other, subject="Quelqu'un d'autre")
    agent = app.test_client()
    login(agent, "agent@example.fr")
    with app.app_context():
        first, dup, foreign = db.session.scalars(db.select(Ticket.id).order_by(Ticket.id)).all()
    resp = post(agent, f"/support/tickets/{dup}/merge", {"target": str(foreign)})
    assert resp.status_code == 422 and "même demandeur" in resp.get_data(as_text=True)
    assert post(agent, f"/support/tickets/{dup}/merge", {"target": f"#{first}"}).status_code == 303
    with app.app_context():
        assert db.session.get(Ticket, dup).merged_into_id == first
        moved = db.session.scalars(
            db.select(TicketMessage.ticket_id).where(TicketMessage.body.like("J'ai reçu%"))
        ).all()
        assert sorted(moved) == sorted([first, first, foreign])
    assert "Doublon" not in client.get("/support").get_data(as_text=True)
    del ids


def test_the_queue_filters_and_refreshes(app, client):
    _people(app)
    login(client, "client@example.fr")
    _open(client, subject="Facture en double", priority="urgent")
    _open(client, subject="Mot de passe oublié", category="account", priority="low")
    agent = app.test_client()
    login(agent, "agent@example.fr")
    page = agent.get("/support/queue").get_data(as_text=True)
    assert "Facture en double" in page and "Mot de passe oublié" in page
    page = agent.get("/support/queue?priority=urgent").get_data(as_text=True)
    assert "Facture en double" in page and "Mot de passe oublié" not in page
    page = agent.get("/support/queue?q=mot").get_data(as_text=True)
    assert "Mot de passe oublié" in page and "Facture en double" not in page
    frag = agent.get("/support/queue?whose=nobody", headers={**HX, "HX-Target": "queue-rows"})
    assert frag.get_data(as_text=True).startswith('<div id="queue-rows"')
    seller = app.test_client()
    login(seller, "vendeur@example.fr")
    assert seller.get("/support/queue").status_code == 200  # sales handle tickets too (A11)
    assert client.get("/support/queue").status_code == 403


def test_a_stranger_gets_404_on_a_ticket_and_its_files(app, client):
    _people(app)
    login(client, "client@example.fr")
    _open(client, files=(io.BytesIO(PDF), "facture.pdf"))
    with app.app_context():
        ticket_id = db.session.scalar(db.select(Ticket.id))
        from app.models import TicketAttachment

        attachment_id = db.session.scalar(db.select(TicketAttachment.id))
    assert client.get(f"/support/attachments/{attachment_id}").status_code == 200
    other = app.test_client()
    login(other, "autre@example.fr")
    for url in (
        f"/support/tickets/{ticket_id}",
        f"/support/tickets/{ticket_id}.json",
        f"/support/tickets/{ticket_id}/transcript.txt",
        f"/support/attachments/{attachment_id}",
    ):
        assert other.get(url).status_code == 404, url
    for action in ("reply", "status", "assign", "merge", "rate", "priority"):
        assert (
            post(other, f"/support/tickets/{ticket_id}/{action}", {"body": "x"}).status_code == 404
        )


# -- the clocks ------------------------------------------------------------------------------------


def _paris(*args):
    return datetime(*args, tzinfo=PARIS)


def test_the_clocks_count_business_time_pause_while_pending_and_flag_once(ctx):
    requester, agent = gen_user(ctx, Role.CLIENT), gen_user(ctx, Role.SUPPORT)
    # Friday 17:30 in Paris: an urgent ticket's hour runs from 17:30 to 18:00, then Monday
    with clock.frozen(_paris(2027, 1, 15, 17, 30)):
        ticket = tickets.open_ticket(
            requester,
            category="technical",
            priority="urgent",
            subject="Panne",
            body="Rien ne marche",
        )
    assert ticket.first_response_due_at == _paris(2027, 1, 18, 9, 30)
    # 8 business hours on the default calendar (9:00-12:30, 14:00-18:00): Monday 18:00
    assert ticket.resolution_due_at == _paris(2027, 1, 18, 18, 0)
    # Monday 10:00: the first reply is late; the sweep flags it once and tells the team
    assert sla.sweep(at=_paris(2027, 1, 18, 10, 0)) == 1
    assert sla.sweep(at=_paris(2027, 1, 18, 10, 5)) == 0
    assert ticket.response_breached
    told = ctx.scalars(
        db.select(Notification.user_id).where(Notification.type == "ticket_late")
    ).all()
    assert told == [agent.id]
    # a reply at 11:00 setting it pending: the resolution clock stops with 5 h 30 left
    with clock.frozen(_paris(2027, 1, 18, 11, 0)):
        tickets.reply(agent, ticket, "Pouvez-vous nous envoyer une capture ?", status="pending")
    assert ticket.first_response_at == _paris(2027, 1, 18, 11, 0)
    assert sla.sweep(at=_paris(2027, 1, 19, 12, 0)) == 0  # paused: never late
    # the requester answers on Wednesday at 9:00: what was left (5 h 30) runs from then
    with clock.frozen(_paris(2027, 1, 20, 9, 0)):
        tickets.reply(requester, ticket, "Voici la capture.")
    assert ticket.status == TicketStatus.OPEN
    assert ticket.resolution_due_at == _paris(2027, 1, 20, 16, 0)


def test_a_new_priority_sets_new_budgets_from_the_arrival(ctx):
    requester, agent = gen_user(ctx, Role.CLIENT), gen_user(ctx, Role.SUPPORT)
    with clock.frozen(_paris(2027, 1, 18, 9, 0)):
        ticket = tickets.open_ticket(
            requester, category="other", priority="low", subject="S", body="B"
        )
        # 16 business hours of 7 h 30 days: Monday, Tuesday, then Wednesday's first hour
        assert ticket.first_response_due_at == _paris(2027, 1, 20, 10, 0)
        tickets.set_priority(agent, ticket, "high")
    assert ticket.first_response_due_at == _paris(2027, 1, 18, 14, 30)


# -- replies by email ------------------------------------------------------------------------------


@pytest.fixture
def inbound(app):
    port = free_port()
    controller = Controller(mailin.Handler(app), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


def _send(port, sender, to, body):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: [Ticket]"
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", port) as smtp_client:
        smtp_client.send_message(message)


def test_a_reply_to_the_notification_email_lands_on_the_ticket(
    app, client, smtp, run_jobs, inbound
):
    ticket_id, _agent = _ticket_with_note(app, client, smtp, run_jobs)
    mail = smtp.to("client@example.fr")[-1]
    address = mail["Reply-To"]
    assert address.startswith(f"ticket-{ticket_id}-")
    quoted = "\n".join("> " + line for line in smtp.body(mail).splitlines())
    _send(
        inbound,
        "Claire <client@example.fr>",
        address,
        f"Merci, voici ma réponse.\n\nLe 7 déc. 2026, Support a écrit :\n{quoted}",
    )
    with app.app_context():
        last = db.session.scalar(db.select(TicketMessage).order_by(TicketMessage.id.desc()))
        assert last.body == "Merci, voici ma réponse." and last.via == "email"
        assert db.session.get(Ticket, ticket_id).status == TicketStatus.OPEN  # reopened
    # someone else writing to the address is refused, and so is a forged address
    with pytest.raises(smtplib.SMTPDataError) as refused:
        _send(inbound, "autre@example.fr", address, "Je m'immisce")
    assert refused.value.smtp_code == 550
    forged = re.sub(r"-[0-9a-f]+@", "-0000000000@", address)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        _send(inbound, "client@example.fr", forged, "Hop")
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(db.func.count(TicketMessage.id)).where(TicketMessage.via == "email")
            )
            == 1
        )


def test_the_quoted_part_of_a_reply_is_cut():
    import email as email_lib
    import email.policy

    raw = (
        "From: a@b.fr\nTo: t@r\nSubject: x\nContent-Type: text/plain; charset=utf-8\n\n"
        "Oui, c'est bon.\n\n" + tickets.REPLY_MARKER + "\nRépondez au-dessus\n> ancien\n"
    ).encode()
    message = email_lib.message_from_bytes(raw, policy=email.policy.default)
    assert mailin.reply_text(message) == "Oui, c'est bon."


def test_a_refused_file_on_a_reply_keeps_the_reply_text(app, client):
    _people(app)
    login(client, "client@example.fr")
    _open(client)
    with app.app_context():
        ticket_id = db.session.scalar(db.select(Ticket.id))
    resp = post(
        client,
        f"/support/tickets/{ticket_id}/reply",
        {
            "body": "Voici la pièce demandée",
            "files": (io.BytesIO(b"MZ\x90\x00binary"), "outil.exe"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Voici la pièce demandée" in page and "outil.exe" in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(TicketMessage.id))) == 1


def test_the_queue_pages_through_older_tickets(app, client):
    ids = _people(app)
    with app.test_request_context():
        requester = db.session.get(User, ids["client"])
        for i in range(tickets.QUEUE_PAGE + 2):
            tickets.open_ticket(
                requester, category="other", priority="low", subject=f"Demande {i:03d}", body="B"
            )
    agent = app.test_client()
    login(agent, "agent@example.fr")
    page = agent.get("/support/queue").get_data(as_text=True)
    assert f"Demande {tickets.QUEUE_PAGE + 1:03d}" in page and "Demande 000" not in page
    older = re.search(r'href="(/support/queue\?before=\d+)">Tickets plus anciens', page).group(1)
    assert "Demande 000" in agent.get(older).get_data(as_text=True)
