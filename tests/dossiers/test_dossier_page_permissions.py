"""The dossier page's permissions come from the policy module (DossierView.may): the same
answers the upload, review and thread routes give, so a button is shown exactly when its
action would be accepted."""

import pytest

from app.extensions import db
from app.models import Dossier, DossierStatus
from app.services import dossiers
from tests.factories import login
from tests.factories.models import gen_admin, gen_client, gen_dossier, gen_expert, gen_firm


@pytest.fixture
def world(ctx):
    expert, owner = gen_expert(ctx), gen_expert(ctx)
    gen_firm(ctx, owner, members=[expert])
    return {
        "dossier": gen_dossier(ctx, client=gen_client(ctx)),
        "expert": expert,
        "owner": owner,
        "admin": gen_admin(ctx),
    }


def _may(ctx, world, who, status: DossierStatus):
    dossier = world["dossier"]
    dossier.status = status
    if status not in (DossierStatus.PENDING_UPLOAD, DossierStatus.PENDING_ADMIN_VALIDATION):
        dossier.expert_id = world["expert"].id
    ctx.commit()
    viewer = dossier.client if who == "client" else world[who]
    return dossiers.page(dossier.id, viewer).may


def test_the_client_uploads_eligibility_files_and_the_admin_reviews_them(ctx, world):
    client = _may(ctx, world, "client", DossierStatus.PENDING_UPLOAD)
    assert client.upload_eligibility and not client.review_eligibility
    assert client.open_thread and not client.see_client and not client.issue_invoice
    admin = _may(ctx, world, "admin", DossierStatus.PENDING_UPLOAD)
    assert not admin.upload_eligibility and not admin.review_eligibility  # nothing sent yet
    admin = _may(ctx, world, "admin", DossierStatus.PENDING_ADMIN_VALIDATION)
    assert admin.review_eligibility and admin.see_client and admin.issue_invoice
    waiting = _may(ctx, world, "client", DossierStatus.PENDING_ADMIN_VALIDATION)
    assert not waiting.upload_eligibility


def test_the_expert_reviews_complementary_files_and_adds_the_audits(ctx, world):
    expert = _may(ctx, world, "expert", DossierStatus.DOCUMENTS_SENT)
    assert expert.review_complementary and not expert.upload_complementary
    assert expert.expert_upload_step is None
    assert _may(ctx, world, "expert", DossierStatus.AUDIT_IN_PROGRESS).expert_upload_step == "audit"
    step = _may(ctx, world, "expert", DossierStatus.SUBMITTED_TO_ADMINISTRATION).expert_upload_step
    assert step == "submission"
    client = _may(ctx, world, "client", DossierStatus.AUDIT_COMPLETED)
    assert client.answer_audit and client.expert_upload_step is None
    assert _may(ctx, world, "client", DossierStatus.COMPLETED).review_expert
    assert not _may(ctx, world, "expert", DossierStatus.COMPLETED).review_expert


def test_the_firm_owner_reads_the_dossier_but_not_its_conversation_nor_acts(ctx, world):
    owner = _may(ctx, world, "owner", DossierStatus.DOCUMENTS_SENT)
    assert not owner.open_thread and not owner.review_complementary
    assert not owner.see_client and owner.expert_upload_step is None
    assert not _may(ctx, world, "owner", DossierStatus.AUDIT_IN_PROGRESS).expert_upload_step


def test_the_page_shows_a_button_only_when_the_policy_allows_it(app, client):
    with app.app_context():
        dossier = gen_dossier(db.session, client=gen_client(db.session, email="c@example.fr"))
        db.session.commit()
        dossier_id = dossier.id
    login(client, "c@example.fr")
    page = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert 'name="step" value="eligibility"' in page
    with app.app_context():
        db.session.get(Dossier, dossier_id).status = DossierStatus.PENDING_ADMIN_VALIDATION
        db.session.commit()
    page = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert 'name="step" value="eligibility"' not in page
