"""Leads and the pipeline (A11): de-duplication by email and SIREN, every stage move allowed or
refused per role, lost needs its reason, the board and the list without JavaScript, a won lead
invited to a client account that keeps its history, and the ways in (contact, simulator,
referrer)."""

import re

import pytest

from app.extensions import db
from app.models import Lead, LeadEvent, LeadSource, LeadStage, Role, Simulation, User
from app.services.crm import leads
from tests.factories import HX, VALID_SIREN, login, make_user, post
from tests.factories.models import gen_user
from tests.simulator.test_simulator_engine import GOLDEN


def _lead(ctx, owner=None, **kw):
    kw.setdefault("company", "Brasserie Lune")
    return leads.capture(
        kw.pop("source", LeadSource.CONTACT),
        kw.pop("email", "lea@example.fr"),
        owner=owner,
        confirm=False,
        **kw,
    )


def test_the_same_email_or_siren_adds_to_the_lead_already_there(ctx):
    seller = gen_user(ctx, Role.SALES)
    first = _lead(ctx, siren=VALID_SIREN, message="Premier message")
    again = _lead(ctx, email="LEA@example.fr", message="Deuxième")
    by_siren = _lead(ctx, email="direction@lune.fr", siren=VALID_SIREN.replace("", " ").strip())
    assert first.id == again.id == by_siren.id
    assert first.owner_id == seller.id
    assert "Premier message" in first.message and "Deuxième" in first.message
    assert ctx.scalar(db.select(db.func.count(Lead.id))) == 1
    kinds = ctx.scalars(db.select(LeadEvent.kind).where(LeadEvent.lead_id == first.id)).all()
    assert kinds.count("returned") == 2
    other = _lead(ctx, email="autre@example.fr")
    assert other.id != first.id


def test_a_lost_lead_that_comes_back_is_reopened(ctx):
    seller = gen_user(ctx, Role.SALES)
    lead = _lead(ctx)
    leads.move(seller, lead, LeadStage.LOST, "Trop cher")
    again = _lead(ctx)
    assert again.id == lead.id and again.stage == LeadStage.NEW and again.closed_at is None


def test_round_robin_goes_round_the_active_sellers(ctx):
    a, b, c = (gen_user(ctx, Role.SALES) for _ in range(3))
    c.active = False
    ctx.commit()
    owners = [_lead(ctx, email=f"p{i}@example.fr").owner_id for i in range(5)]
    assert owners == [a.id, b.id, a.id, b.id, a.id]


MOVES = [
    (LeadStage.NEW, LeadStage.CONTACTED, True),
    (LeadStage.CONTACTED, LeadStage.QUALIFIED, True),
    (LeadStage.QUALIFIED, LeadStage.PROPOSAL, True),
    (LeadStage.PROPOSAL, LeadStage.QUALIFIED, True),  # back a step: allowed
    (LeadStage.NEW, LeadStage.WON, True),
    (LeadStage.PROPOSAL, LeadStage.LOST, True),
    (LeadStage.LOST, LeadStage.NEW, True),  # reopened
    (LeadStage.LOST, LeadStage.PROPOSAL, False),
    (LeadStage.WON, LeadStage.LOST, False),  # a client now
    (LeadStage.WON, LeadStage.NEW, False),
    (LeadStage.NEW, LeadStage.NEW, False),
]


@pytest.mark.parametrize("start, to, allowed", MOVES)
def test_every_stage_move_is_allowed_or_refused(ctx, start, to, allowed):
    seller = gen_user(ctx, Role.SALES)
    lead = _lead(ctx, owner=seller)
    lead.stage = start
    ctx.commit()
    if allowed:
        leads.move(seller, lead, to, "Raison")
        assert lead.stage == to
    else:
        with pytest.raises(Exception) as caught:
            leads.move(seller, lead, to, "Raison")
        assert caught.value.status == 409
        assert lead.stage == start


def _http_world(app):
    with app.test_request_context():
        owner = make_user(app, Role.SALES, email="vendeur@example.fr")
        make_user(app, Role.SALES, email="collegue@example.fr")
        make_user(app, Role.ADMIN, email="admin@example.fr")
        make_user(app, Role.SUPPORT, email="support@example.fr")
        make_user(app, Role.CLIENT, email="client@example.fr")
        make_user(app, Role.REFERRER, email="apporteur@example.fr")
        lead = leads.capture(
            LeadSource.CONTACT,
            "lea@example.fr",
            company="Brasserie Lune",
            owner=db.session.get(User, owner),
            confirm=False,
        )
        return lead.id


@pytest.mark.parametrize(
    "who, expected",
    [
        ("vendeur@example.fr", 303),  # the lead's seller
        ("admin@example.fr", 303),
        ("collegue@example.fr", 409),  # another seller's lead: refused, said why
        ("support@example.fr", 403),  # no CRM for support (A11)
        ("client@example.fr", 403),
        ("apporteur@example.fr", 403),
    ],
)
def test_who_may_move_a_lead(app, client, who, expected):
    lead_id = _http_world(app)
    login(client, who)
    resp = post(client, f"/crm/leads/{lead_id}/move", {"stage": "contacted"})
    assert resp.status_code == expected
    with app.app_context():
        stage = db.session.get(Lead, lead_id).stage
    assert stage == (LeadStage.CONTACTED if expected == 303 else LeadStage.NEW)
    if expected == 409:
        assert "autre commercial" in resp.get_data(as_text=True)


def test_lost_needs_its_reason_and_a_stage_must_exist(app, client):
    lead_id = _http_world(app)
    login(client, "vendeur@example.fr")
    resp = post(client, f"/crm/leads/{lead_id}/move", {"stage": "lost", "reason": "  "})
    assert resp.status_code == 422
    assert "Indiquez pourquoi le prospect est perdu." in resp.get_data(as_text=True)
    resp = post(client, f"/crm/leads/{lead_id}/move", {"stage": "signed", "reason": "Trop cher"})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Cette étape n&#39;existe pas." in page and 'value="Trop cher"' in page
    resp = post(client, f"/crm/leads/{lead_id}/move", {"stage": "lost", "reason": "Trop cher"})
    assert resp.status_code == 303
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert lead.stage == LeadStage.LOST and lead.lost_reason == "Trop cher"


def test_the_board_works_without_javascript(app, client):
    lead_id = _http_world(app)
    login(client, "vendeur@example.fr")
    page = client.get("/crm").get_data(as_text=True)
    # a column per stage, the card with its own "move to" form, its select labelled
    for stage in ("Nouveau", "Contacté", "Qualifié", "Proposition", "Gagné", "Perdu"):
        assert f">{stage} <" in page
    assert f'action="/crm/leads/{lead_id}/move"' in page
    assert f'<label class="visually-hidden" for="move-{lead_id}">' in page
    resp = post(
        client, f"/crm/leads/{lead_id}/move", {"stage": "qualified", "next": "/crm?whose=mine"}
    )
    assert resp.status_code == 303 and resp.location.endswith("/crm?whose=mine")
    page = client.get(resp.location).get_data(as_text=True)
    assert "est passé à l&#39;étape « Qualifié »" in page
    qualified = page.split('id="col-qualified"')[1].split("</section>")[0]
    assert "Brasserie Lune" in qualified
    # and the live fragment
    frag = client.get("/crm?whose=mine", headers={**HX, "HX-Target": "board"}).get_data(
        as_text=True
    )
    assert frag.startswith('<div id="board"')


def test_the_list_filters_and_sorts(app, client):
    _http_world(app)
    with app.test_request_context():
        for i, source in enumerate([LeadSource.REQUEST_FORM, LeadSource.SIMULATOR]):
            leads.capture(source, f"p{i}@example.fr", company=f"Zeta {i}", confirm=False)
    login(client, "admin@example.fr")
    page = client.get("/crm/leads?source=simulator").get_data(as_text=True)
    assert "Zeta 1" in page and "Zeta 0" not in page and "Brasserie" not in page
    page = client.get("/crm/leads?q=zeta&sort=oldest").get_data(as_text=True)
    assert page.index("Zeta 0") < page.index("Zeta 1")
    page = client.get("/crm/leads?q=p0@").get_data(as_text=True)
    assert "Zeta 0" in page and "Zeta 1" not in page
    frag = client.get("/crm/leads?owner=0", headers={**HX, "HX-Target": "lead-rows"}).get_data(
        as_text=True
    )
    assert frag.startswith('<div id="lead-rows"') and "Brasserie" not in frag


def test_a_won_lead_becomes_a_client_that_keeps_its_history(app, client, smtp, run_jobs):
    lead_id = _http_world(app)
    login(client, "vendeur@example.fr")
    post(
        client,
        f"/crm/leads/{lead_id}/activities",
        {"kind": "call", "subject": "Appel de découverte"},
    )
    assert post(client, f"/crm/leads/{lead_id}/move", {"stage": "won"}).status_code == 303
    run_jobs()
    invitation = smtp.to("lea@example.fr")[-1]
    link = re.search(r"http\S+/register\?invite=\S+", smtp.body(invitation)).group(0)
    client.post("/logout", data={"csrf_token": ""})
    visitor = app.test_client()
    form = visitor.get(
        link.split("5000", 1)[-1] if "5000" in link else link[link.index("/register") :]
    )
    page = form.get_data(as_text=True)
    assert 'value="lea@example.fr"' in page and 'value="Brasserie Lune"' in page
    resp = post(
        visitor,
        "/register",
        {
            "first_name": "Léa",
            "last_name": "Lune",
            "email": "lea@example.fr",
            "password": "brasserie-2026-lune",
            "confirm": "brasserie-2026-lune",
            "company_name": "Brasserie Lune",
            "siren": VALID_SIREN,
            "sector": "Transport et Logistique",
            "accept": "y",
        },
    )
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        user = db.session.scalar(db.select(User).where(User.email == "lea@example.fr"))
        assert lead.client_id == user.id
        client_id = user.id
    seller = app.test_client()
    login(seller, "vendeur@example.fr")
    page = seller.get(f"/crm/clients/{client_id}").get_data(as_text=True)
    assert "Appel de découverte" in page and f"/crm/leads/{lead_id}" in page
    history = seller.get(f"/crm/leads/{lead_id}").get_data(as_text=True)
    assert "devenu client" in history


def test_an_invitation_is_only_good_for_its_won_lead(ctx):
    seller = gen_user(ctx, Role.SALES)
    lead = _lead(ctx, owner=seller)
    token = leads.invitation_token(lead)
    assert leads.lead_of_invitation(token) is None  # not won yet
    leads.move(seller, lead, LeadStage.WON)
    assert leads.lead_of_invitation(token).id == lead.id
    assert leads.lead_of_invitation(token + "x") is None


def test_the_contact_page_and_a_referrers_recommendation_become_leads(app, client):
    make_user(app, Role.SALES, email="vendeur@example.fr")
    referrer = make_user(app, Role.REFERRER, email="apporteur@example.fr")
    resp = post(
        client,
        "/contact",
        {
            "company": "Garage Nord",
            "contact_name": "Ana",
            "email": "ana@nord.fr",
            "message": "Bonjour",
        },
    )
    assert resp.status_code == 303
    resp = post(client, "/contact", {"company": "Garage Nord", "email": "ana@nord.fr"})
    assert resp.status_code == 422 and 'value="Garage Nord"' in resp.get_data(as_text=True)
    login(client, "apporteur@example.fr")
    resp = post(
        client,
        "/referrer/prospects",
        {"company": "Hôtel Sud", "contact_name": "Paul", "email": "paul@sud.fr"},
    )
    assert resp.status_code == 303
    with app.app_context():
        rows = {r.email: r for r in db.session.scalars(db.select(Lead))}
        assert rows["ana@nord.fr"].source == LeadSource.CONTACT
        assert rows["paul@sud.fr"].source == LeadSource.REFERRER
        assert rows["paul@sud.fr"].referrer_id == referrer


def test_a_simulator_visitor_leaves_an_email_and_the_lead_has_the_results(app, client):
    make_user(app, Role.SALES, email="vendeur@example.fr")
    resp = post(client, "/simulator", dict(GOLDEN))
    results = resp.headers["Location"]
    page = client.get(results).get_data(as_text=True)
    assert 'id="call-me"' in page
    call_me = results + "/call-me"
    resp = post(client, call_me, {"contact_name": "Ana", "email": "pas-une-adresse"})
    assert resp.status_code == 303 and "#call-me" in resp.location
    resp = post(client, call_me, {"contact_name": "Ana", "email": "ana@nord.fr"})
    assert resp.status_code == 303
    with app.app_context():
        lead = db.session.scalar(db.select(Lead))
        sim = db.session.scalar(db.select(Simulation))
        assert lead.source == LeadSource.SIMULATOR and lead.simulation_id == sim.id
        assert lead.simulation_total_cents == sim.total_cents > 0
    seller = app.test_client()
    login(seller, "vendeur@example.fr")
    page = seller.get(f"/crm/leads/{lead.id}").get_data(as_text=True)
    assert "Ce que le simulateur a trouvé" in page and "par an" in page
    # someone else's simulation: 404
    other = app.test_client()
    resp = post(other, call_me, {"contact_name": "X", "email": "x@example.fr"})
    assert resp.status_code == 404


def test_admins_and_sellers_see_the_lead_page_others_do_not(app, client):
    lead_id = _http_world(app)
    login(client, "collegue@example.fr")
    page = client.get(f"/crm/leads/{lead_id}").get_data(as_text=True)
    assert "Brasserie Lune" in page
    assert client.get("/crm/leads/987654").status_code == 404
    other = app.test_client()
    login(other, "support@example.fr")
    assert other.get(f"/crm/leads/{lead_id}").status_code == 403


def test_the_list_pages_through_many_leads(app, client):
    with app.test_request_context():
        for i in range(leads.PAGE + 3):
            leads.capture(
                LeadSource.CONTACT, f"n{i}@example.fr", company=f"Société {i:03d}", confirm=False
            )
    make_user(app, Role.SALES, email="vendeur@example.fr")
    login(client, "vendeur@example.fr")
    page = client.get("/crm/leads?sort=oldest").get_data(as_text=True)
    last = f"Société {leads.PAGE + 2:03d}"
    assert "Société 000" in page and last not in page
    second = re.search(rf'href="(/crm/leads\?[^"]*offset={leads.PAGE}[^"]*)">Suivants', page)
    page = client.get(second.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert last in page and "Précédents" in page
