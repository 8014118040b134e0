"""The dossier page's permissions come from the policy module (DossierView.may): the same
answers the upload, review and thread routes give, so a button is shown exactly when its
action would be accepted."""

from app.extensions import db
from app.models import (
    ApprovalStatus,
    Dossier,
    DossierStatus,
    Firm,
    FirmMember,
    FirmRole,
    Product,
    Role,
    User,
)
from app.services import dossiers
from tests.factories import login, make_user, user_email


def _dossier(app, **fields) -> dict:
    ids = {
        "client": make_user(app, Role.CLIENT),
        "expert": make_user(app, Role.EXPERT, approval_status=ApprovalStatus.APPROVED),
        "owner": make_user(app, Role.EXPERT, approval_status=ApprovalStatus.APPROVED),
        "admin": make_user(app, Role.ADMIN),
    }
    with app.app_context():
        product = db.session.scalar(db.select(Product).where(Product.code == "TICPE"))
        dossier = Dossier(client_id=ids["client"], product_id=product.id, **fields)
        firm = Firm(name="Cabinet Azur")
        firm.members = [
            FirmMember(user_id=ids["owner"], role=FirmRole.OWNER),
            FirmMember(user_id=ids["expert"], role=FirmRole.EXPERT),
        ]
        db.session.add_all([dossier, firm])
        db.session.commit()
        ids["dossier"] = dossier.id
    return ids


def _may(app, ids, who, status: DossierStatus):
    with app.test_request_context():
        dossier = db.session.get(Dossier, ids["dossier"])
        dossier.status = status
        if status not in (DossierStatus.PENDING_UPLOAD, DossierStatus.PENDING_ADMIN_VALIDATION):
            dossier.expert_id = ids["expert"]
        db.session.commit()
        return dossiers.page(ids["dossier"], db.session.get(User, ids[who])).may


def test_the_client_uploads_eligibility_files_and_the_admin_reviews_them(app):
    ids = _dossier(app)
    client = _may(app, ids, "client", DossierStatus.PENDING_UPLOAD)
    assert client.upload_eligibility and not client.review_eligibility
    assert client.open_thread and not client.see_client and not client.issue_invoice
    admin = _may(app, ids, "admin", DossierStatus.PENDING_UPLOAD)
    assert not admin.upload_eligibility and not admin.review_eligibility  # nothing sent yet
    admin = _may(app, ids, "admin", DossierStatus.PENDING_ADMIN_VALIDATION)
    assert admin.review_eligibility and admin.see_client and admin.issue_invoice
    assert not _may(app, ids, "client", DossierStatus.PENDING_ADMIN_VALIDATION).upload_eligibility


def test_the_expert_reviews_complementary_files_and_adds_the_audits(app):
    ids = _dossier(app)
    expert = _may(app, ids, "expert", DossierStatus.DOCUMENTS_SENT)
    assert expert.review_complementary and not expert.upload_complementary
    assert expert.expert_upload_step is None
    assert _may(app, ids, "expert", DossierStatus.AUDIT_IN_PROGRESS).expert_upload_step == "audit"
    step = _may(app, ids, "expert", DossierStatus.SUBMITTED_TO_ADMINISTRATION).expert_upload_step
    assert step == "submission"
    client = _may(app, ids, "client", DossierStatus.AUDIT_COMPLETED)
    assert client.answer_audit and client.expert_upload_step is None
    assert _may(app, ids, "client", DossierStatus.COMPLETED).review_expert
    assert not _may(app, ids, "expert", DossierStatus.COMPLETED).review_expert


def test_the_firm_owner_reads_the_dossier_but_not_its_conversation_nor_acts(app):
    ids = _dossier(app)
    owner = _may(app, ids, "owner", DossierStatus.DOCUMENTS_SENT)
    assert not owner.open_thread and not owner.review_complementary
    assert not owner.see_client and owner.expert_upload_step is None
    assert not _may(app, ids, "owner", DossierStatus.AUDIT_IN_PROGRESS).expert_upload_step


def test_the_page_shows_a_button_only_when_the_policy_allows_it(app, client):
    ids = _dossier(app)
    _may(app, ids, "client", DossierStatus.PENDING_UPLOAD)
    login(client, user_email(app, ids["client"]))
    page = client.get(f"/dossiers/{ids['dossier']}").get_data(as_text=True)
    assert 'name="step" value="eligibility"' in page
    _may(app, ids, "client", DossierStatus.PENDING_ADMIN_VALIDATION)
    page = client.get(f"/dossiers/{ids['dossier']}").get_data(as_text=True)
    assert 'name="step" value="eligibility"' not in page
