"""Defect: any expert (even one nobody had approved) could create a firm, "add" another expert
by email and from then on read that expert's dossiers. Membership is now an invitation the
invited expert answers from their own account, only approved experts run a firm, and what a
firm's runners see is decided by the policy module."""

import pytest

from app.extensions import db
from app.models import (
    ApprovalStatus,
    AuditLog,
    Dossier,
    DossierStatus,
    FirmInvitation,
    Notification,
    Product,
    Role,
    User,
)
from tests.factories import login, make_user, post


def _expert(app, email, status=ApprovalStatus.APPROVED):
    return make_user(app, Role.EXPERT, email=email, approval_status=status)


@pytest.fixture
def victim_dossier(app):
    """An approved expert working on a client's dossier."""
    victim = _expert(app, "victim@example.fr")
    client_id = make_user(app, Role.CLIENT)
    with app.app_context():
        product = db.session.scalar(db.select(Product).where(Product.code == "TICPE"))
        dossier = Dossier(
            client_id=client_id,
            product_id=product.id,
            expert_id=victim,
            status=DossierStatus.AUDIT_COMPLETED,
            audit_report="Confidential audit report",
            final_cents=900_000,
        )
        db.session.add(dossier)
        db.session.commit()
        return dossier.id


def _switch(client, email):
    client.post("/logout", data={})
    login(client, email)


def _invitation_id(app, email) -> int:
    with app.app_context():
        return db.session.scalar(
            db.select(FirmInvitation.id)
            .join(FirmInvitation.user)
            .where(User.email == email)
            .order_by(FirmInvitation.id.desc())
        )


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditLog.action).order_by(AuditLog.id)))


def test_an_unapproved_expert_cannot_create_a_firm(app, client):
    _expert(app, "applicant@example.fr", ApprovalStatus.PENDING)
    login(client, "applicant@example.fr")
    page = client.get("/account/cabinet").get_data(as_text=True)
    assert 'action="/account/cabinet"' not in page
    assert post(client, "/account/cabinet", {"name": "Cabinet Pirate"}).status_code == 409
    resp = post(client, "/account/cabinet/members", {"email": "x@example.fr", "role": "expert"})
    assert resp.status_code == 404


def test_adding_an_expert_is_an_invitation_they_must_accept(
    app, client, smtp, run_jobs, victim_dossier
):
    _expert(app, "owner@example.fr")
    login(client, "owner@example.fr")
    assert post(client, "/account/cabinet", {"name": "Cabinet Azur"}).status_code == 303
    invite = {"email": "victim@example.fr", "role": "expert"}
    assert post(client, "/account/cabinet/members", invite).status_code == 303
    # invited is not joined: the firm sees nothing yet
    assert client.get(f"/dossiers/{victim_dossier}").status_code == 404
    assert "Confidential" not in client.get("/account/cabinet").get_data(as_text=True)
    assert post(client, "/account/cabinet/members", invite).status_code == 422  # asked already

    run_jobs()
    [mail] = smtp.to("victim@example.fr")
    assert "Cabinet Azur" in smtp.body(mail) and "/account/cabinet" in smtp.body(mail)
    with app.app_context():
        victim = db.session.scalar(db.select(User).where(User.email == "victim@example.fr"))
        types = set(
            db.session.scalars(
                db.select(Notification.type).where(Notification.user_id == victim.id)
            )
        )
        assert "firm_invitation" in types

    # the victim declines: still nothing shared
    _switch(client, "victim@example.fr")
    invitation = _invitation_id(app, "victim@example.fr")
    assert post(client, f"/account/cabinet/invitations/{invitation}/refuse").status_code == 303
    assert post(client, f"/account/cabinet/invitations/{invitation}/accept").status_code == 409
    _switch(client, "owner@example.fr")
    assert client.get(f"/dossiers/{victim_dossier}").status_code == 404

    # asked again, the victim accepts: the owner reads, never acts
    assert post(client, "/account/cabinet/members", invite).status_code == 303
    _switch(client, "victim@example.fr")
    invitation = _invitation_id(app, "victim@example.fr")
    assert post(client, f"/account/cabinet/invitations/{invitation}/accept").status_code == 303
    _switch(client, "owner@example.fr")
    assert client.get(f"/dossiers/{victim_dossier}").status_code == 200
    resp = post(client, f"/dossiers/{victim_dossier}/actions/validate_audit")
    assert resp.status_code == 409

    # leaving ends it at once, and is audited
    _switch(client, "victim@example.fr")
    assert post(client, "/account/cabinet/leave").status_code == 303
    _switch(client, "owner@example.fr")
    assert client.get(f"/dossiers/{victim_dossier}").status_code == 404
    assert [
        a for a in _actions(app) if a.startswith("cabinet.") and a not in ("cabinet.create",)
    ] == [
        "cabinet.invite",
        "cabinet.refuse",
        "cabinet.invite",
        "cabinet.join",
        "cabinet.leave",
    ]


def test_a_removed_member_is_told_and_no_longer_seen(app, client, victim_dossier):
    _expert(app, "owner@example.fr")
    login(client, "owner@example.fr")
    post(client, "/account/cabinet", {"name": "Cabinet Azur"})
    post(client, "/account/cabinet/members", {"email": "victim@example.fr", "role": "manager"})
    _switch(client, "victim@example.fr")
    post(client, f"/account/cabinet/invitations/{_invitation_id(app, 'victim@example.fr')}/accept")
    _switch(client, "owner@example.fr")
    assert client.get(f"/dossiers/{victim_dossier}").status_code == 200
    with app.app_context():
        from app.models import FirmMember

        member_id = db.session.scalar(db.select(FirmMember.id).where(FirmMember.role != "owner"))
    assert post(client, f"/account/cabinet/members/{member_id}/remove").status_code == 303
    assert client.get(f"/dossiers/{victim_dossier}").status_code == 404
    assert "cabinet.remove_member" in _actions(app)
    with app.app_context():
        assert db.session.scalar(
            db.select(Notification.id).where(Notification.type == "firm_removed")
        )


def test_only_the_invited_expert_answers_an_invitation(app, client):
    _expert(app, "owner@example.fr")
    _expert(app, "invited@example.fr")
    _expert(app, "stranger@example.fr")
    login(client, "owner@example.fr")
    post(client, "/account/cabinet", {"name": "Cabinet Azur"})
    post(client, "/account/cabinet/members", {"email": "invited@example.fr", "role": "expert"})
    invitation = _invitation_id(app, "invited@example.fr")
    _switch(client, "stranger@example.fr")
    assert post(client, f"/account/cabinet/invitations/{invitation}/accept").status_code == 404
    assert post(client, f"/account/cabinet/invitations/{invitation}/revoke").status_code == 404
    assert post(client, f"/account/cabinet/invitations/{invitation}/refuse").status_code == 404


def test_a_runner_who_loses_approval_loses_sight_of_the_team(app, client, victim_dossier):
    owner = _expert(app, "owner@example.fr")
    login(client, "owner@example.fr")
    post(client, "/account/cabinet", {"name": "Cabinet Azur"})
    post(client, "/account/cabinet/members", {"email": "victim@example.fr", "role": "expert"})
    _switch(client, "victim@example.fr")
    post(client, f"/account/cabinet/invitations/{_invitation_id(app, 'victim@example.fr')}/accept")
    _switch(client, "owner@example.fr")
    assert client.get(f"/dossiers/{victim_dossier}").status_code == 200
    with app.app_context():
        db.session.get(User, owner).expert_profile.approval_status = ApprovalStatus.REJECTED
        db.session.commit()
    assert client.get(f"/dossiers/{victim_dossier}").status_code == 404
