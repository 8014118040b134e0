"""Cabinets: an owner, members with roles, minimum fees that bound negotiation, team dossiers."""

from app.core.errors import ValidationFailed
from app.extensions import db
from app.models import (
    ApprovalStatus,
    Dossier,
    DossierStatus,
    ExpertSector,
    FirmInvitation,
    FirmMember,
    Product,
    Role,
    User,
)
from app.services import workflow
from tests.factories import login, make_user, post


def _expert(app, email):
    return make_user(app, Role.EXPERT, email=email, approval_status=ApprovalStatus.APPROVED)


def test_an_owner_builds_a_team_sets_fees_and_sees_its_dossiers(app, client):
    _expert(app, "owner@example.fr")
    member = _expert(app, "member@example.fr")
    _expert(app, "outsider@example.fr")
    client_id = make_user(app, Role.CLIENT)
    login(client, "owner@example.fr")
    assert post(client, "/account/cabinet", {"name": ""}).status_code == 422
    assert post(client, "/account/cabinet", {"name": "Cabinet Azur"}).status_code == 303
    resp = post(
        client, "/account/cabinet/members", {"email": "nobody@example.fr", "role": "expert"}
    )
    assert resp.status_code == 422 and "nobody@example.fr" in resp.get_data(as_text=True)
    resp = post(client, "/account/cabinet/members", {"email": "member@example.fr", "role": "owner"})
    assert resp.status_code == 422
    assert (
        post(
            client, "/account/cabinet/members", {"email": "member@example.fr", "role": "expert"}
        ).status_code
        == 303
    )
    _accept_invitation(app, client, "member@example.fr")
    login(client, "owner@example.fr")
    with app.app_context():
        ticpe = db.session.scalar(db.select(Product).where(Product.code == "TICPE"))
        ticpe_id = ticpe.id
        dossier = Dossier(
            client_id=client_id,
            product_id=ticpe_id,
            expert_id=member,
            status=DossierStatus.AUDIT_IN_PROGRESS,
        )
        db.session.add(dossier)
        db.session.commit()
        dossier_id = dossier.id
    resp = post(client, "/account/cabinet/fees", {f"min-{ticpe_id}": "150"})
    assert resp.status_code == 422 and 'value="150"' in resp.get_data(as_text=True)
    assert post(client, "/account/cabinet/fees", {f"min-{ticpe_id}": "20"}).status_code == 303
    page = client.get("/account/cabinet").get_data(as_text=True)
    assert f"/dossiers/{dossier_id}" in page
    assert client.get(f"/dossiers/{dossier_id}").status_code == 200  # read access for the owner
    assert _act_refused(client, dossier_id)

    client.post("/logout", data={})
    login(client, "outsider@example.fr")
    assert client.get(f"/dossiers/{dossier_id}").status_code == 404
    assert post(client, "/account/cabinet/fees", {f"min-{ticpe_id}": "10"}).status_code == 404

    # the member negotiates within [20 %, own fee 30 %]
    with app.test_request_context():
        expert = db.session.get(User, member)
        for fee, ok in (("15", False), ("31", False), ("25", True)):
            try:
                workflow.transition(
                    dossier_id,
                    "complete_audit",
                    expert,
                    final_amount="9000",
                    report="R",
                    fee_percent=fee,
                )
                assert ok, fee
            except ValidationFailed:
                assert not ok, fee
                db.session.rollback()
        assert db.session.get(Dossier, dossier_id).negotiated_fee_bp == 2500
        assert db.session.scalar(db.select(db.func.count(FirmMember.id))) == 2


def _accept_invitation(app, client, email) -> None:
    """The invited expert logs in and accepts their firm's invitation (then is logged out)."""
    client.post("/logout", data={})
    login(client, email)
    with app.app_context():
        invitation = db.session.scalar(
            db.select(FirmInvitation).join(FirmInvitation.user).where(User.email == email)
        )
    page = client.get("/account/cabinet").get_data(as_text=True)
    assert f"/account/cabinet/invitations/{invitation.id}/accept" in page
    assert post(client, f"/account/cabinet/invitations/{invitation.id}/accept").status_code == 303
    client.post("/logout", data={})


def _act_refused(client, dossier_id) -> bool:
    resp = post(
        client,
        f"/dossiers/{dossier_id}/actions/complete_audit",
        {"final_amount": "1", "report": "x"},
    )
    return resp.status_code == 409


def test_without_a_firm_minimum_the_fee_is_fixed(app):
    expert_id = _expert(app, "solo@example.fr")
    client_id = make_user(app, Role.CLIENT)
    with app.test_request_context():
        ticpe = db.session.scalar(db.select(Product.id).where(Product.code == "TICPE"))
        dossier = Dossier(
            client_id=client_id,
            product_id=ticpe,
            expert_id=expert_id,
            status=DossierStatus.AUDIT_IN_PROGRESS,
        )
        db.session.add(dossier)
        db.session.commit()
        expert = db.session.get(User, expert_id)
        try:
            workflow.transition(
                dossier.id,
                "complete_audit",
                expert,
                final_amount="9000",
                report="R",
                fee_percent="25",
            )
            raise AssertionError("negotiated without a firm minimum")
        except ValidationFailed as exc:
            assert "fee_percent" in exc.fields


def test_the_offer_keeps_sectors_department_and_certifications(app, client):
    _expert(app, "offer@example.fr")
    login(client, "offer@example.fr")
    data = {
        "fee_percent": "30",
        "capacity": "10",
        "department": "2A",
        "sectors": ["Transport et Logistique", "BTP et Construction"],
        "certifications": "Expert-comptable",
    }
    assert post(client, "/account/expertise", {**data, "department": "PARIS"}).status_code == 422
    assert post(client, "/account/expertise", {**data, "sectors": ["Nope"]}).status_code == 422
    assert post(client, "/account/expertise", data).status_code == 303
    with app.app_context():
        sectors = set(db.session.scalars(db.select(ExpertSector.sector)))
        assert sectors == {"Transport et Logistique", "BTP et Construction"}
        profile = db.session.scalar(
            db.select(User).where(User.email == "offer@example.fr")
        ).expert_profile
        assert (profile.department, profile.certifications) == ("2A", "Expert-comptable")


def test_an_experts_fee_cannot_undercut_the_firms_minimum(app, client):
    _expert(app, "boss@example.fr")
    _expert(app, "junior@example.fr")
    login(client, "boss@example.fr")
    post(client, "/account/cabinet", {"name": "Cabinet Nord"})
    post(client, "/account/cabinet/members", {"email": "junior@example.fr", "role": "expert"})
    with app.app_context():
        ticpe = db.session.scalar(db.select(Product.id).where(Product.code == "TICPE"))
    post(client, "/account/cabinet/fees", {f"min-{ticpe}": "25"})
    _accept_invitation(app, client, "junior@example.fr")
    login(client, "junior@example.fr")
    offer = {"products": [str(ticpe)], f"level-{ticpe}": "expert", "capacity": "5"}
    resp = post(client, "/account/expertise", {**offer, "fee_percent": "20"})
    assert resp.status_code == 422 and "25" in resp.get_data(as_text=True)
    assert post(client, "/account/expertise", {**offer, "fee_percent": "27"}).status_code == 303
