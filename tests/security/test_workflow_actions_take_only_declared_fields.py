"""Defect: a workflow action took internal parameters from the request body (who is waited on,
the after-commit invoice flag, the timeline's raw data). Each action now declares the fields a
person may send; the rest never reaches it."""

import pytest

from app.extensions import db
from app.models import ApprovalStatus, Dossier, DossierEvent, DossierStatus, Party, Product, Role
from app.services import workflow
from tests.factories import login, make_user, post

INTERNAL = {
    "waiting_on": "admin",
    "after_commit_invoice": "1",
    "data": "{'forged': true}",
    "note": "forged note",
}


@pytest.fixture
def audited(app):
    client_id = make_user(app, Role.CLIENT, email="client@example.fr")
    expert_id = make_user(
        app, Role.EXPERT, email="expert@example.fr", approval_status=ApprovalStatus.APPROVED
    )
    with app.app_context():
        product = db.session.scalar(db.select(Product).where(Product.code == "TICPE"))
        dossier = Dossier(
            client_id=client_id,
            product_id=product.id,
            expert_id=expert_id,
            status=DossierStatus.AUDIT_COMPLETED,
            final_cents=900_000,
        )
        db.session.add(dossier)
        db.session.commit()
        return dossier.id


def test_a_client_cannot_choose_who_is_waited_on_nor_the_timeline_data(app, client, audited):
    login(client, "client@example.fr")
    resp = post(
        client, f"/dossiers/{audited}/actions/reject_audit", {"reason": "Trop bas", **INTERNAL}
    )
    assert resp.status_code == 303
    with app.app_context():
        dossier = db.session.get(Dossier, audited)
        assert dossier.status == DossierStatus.AUDIT_REJECTED_BY_CLIENT
        assert dossier.waiting_on == Party.EXPERT  # the action's, not the form's "admin"
        event = db.session.scalar(db.select(DossierEvent).where(DossierEvent.dossier_id == audited))
        assert event.note == "Trop bas" and event.data == {}


def test_a_nonsense_internal_value_is_ignored_not_a_server_error(app, client, audited):
    login(client, "client@example.fr")
    resp = post(
        client,
        f"/dossiers/{audited}/actions/reject_audit",
        {"reason": "Non", "waiting_on": "nobody-at-all", "version": "x" * 50},
    )
    assert resp.status_code in (303, 409)
    resp = post(client, f"/dossiers/{audited}/actions/reject_audit", {"reason": "Non"})
    assert resp.status_code in (303, 409)


def test_every_action_declares_its_fields_and_none_is_internal():
    for action in workflow.ACTIONS.values():
        assert not action.fields & set(INTERNAL) - {"note"}, action.name
    assert workflow.ACTIONS["reject_audit"].fields == {"reason"}
    assert workflow.ACTIONS["accept"].fields == frozenset()


def test_an_expert_id_beyond_the_database_integer_is_a_form_error(app, client):
    admin = make_user(app, Role.ADMIN, email="admin@example.fr")
    client_id = make_user(app, Role.CLIENT)
    with app.app_context():
        product = db.session.scalar(db.select(Product).where(Product.code == "TICPE"))
        dossier = Dossier(
            client_id=client_id, product_id=product.id, status=DossierStatus.ADMIN_VALIDATED
        )
        db.session.add(dossier)
        db.session.commit()
        dossier_id = dossier.id
    assert admin
    login(client, "admin@example.fr")
    resp = post(
        client,
        f"/dossiers/{dossier_id}/actions/assign_expert",
        {"expert_id": "9223372036854775808"},
    )
    assert resp.status_code == 422
