"""The policy module decides from facts it is given and reads nothing itself: these run on
objects that were never saved, with no database behind them."""

from app import security
from app.models import (
    ApprovalStatus,
    Document,
    DocumentStep,
    Dossier,
    DossierStatus,
    ExpertProfile,
    FirmMember,
    FirmRole,
    Role,
    User,
)


def _user(uid, role=Role.EXPERT, approved=True):
    user = User(id=uid, role=role, active=True, first_name="A", last_name="B")
    if role == Role.EXPERT:
        status = ApprovalStatus.APPROVED if approved else ApprovalStatus.PENDING
        user.expert_profile = ExpertProfile(approval_status=status)
    return user


def test_a_firm_runner_reads_a_members_dossier_only_through_the_sight_given():
    owner, expert = _user(1), _user(2)
    dossier = Dossier(id=9, client_id=3, expert_id=2, status=DossierStatus.AUDIT_IN_PROGRESS)
    assert not security.can_view_dossier(owner, dossier)
    assert security.can_view_dossier(owner, dossier, firm_sight={2})
    assert security.can_view_dossier(expert, dossier)
    assert not security.can_view_dossier(_user(5), dossier, firm_sight={7})


def test_the_firm_rule_needs_an_approved_runner_and_an_accepted_member_of_the_same_firm():
    owner = _user(1)
    runner = FirmMember(firm_id=4, user_id=1, role=FirmRole.OWNER)
    member = FirmMember(firm_id=4, user_id=2, role=FirmRole.EXPERT)
    assert security.firm_reads_dossiers_of(owner, runner, member)
    assert not security.firm_reads_dossiers_of(owner, runner, None)  # invited, not joined
    other_firm = FirmMember(firm_id=5, user_id=2, role=FirmRole.EXPERT)
    assert not security.firm_reads_dossiers_of(owner, runner, other_firm)
    assistant = FirmMember(firm_id=4, user_id=1, role=FirmRole.ASSISTANT)
    assert not security.firm_reads_dossiers_of(owner, assistant, member)
    assert not security.firm_reads_dossiers_of(_user(1, approved=False), runner, member)


def test_a_company_document_is_seen_by_the_experts_of_that_clients_dossiers():
    kbis = Document(client_id=3, dossier_id=None, step=DocumentStep.ELIGIBILITY)
    assert security.can_view_document(_user(3, Role.CLIENT), kbis)
    assert security.can_view_document(_user(8, Role.ADMIN), kbis)
    assert not security.can_view_document(_user(2), kbis)
    assert security.can_view_document(_user(2), kbis, client_expert_ids={2})


def test_a_dossier_file_follows_its_dossier():
    dossier = Dossier(id=9, client_id=3, expert_id=2, status=DossierStatus.DOCUMENTS_SENT)
    file = Document(client_id=3, dossier_id=9, step=DocumentStep.COMPLEMENTARY)
    assert security.can_view_document(_user(2), file, dossier=dossier)
    assert not security.can_view_document(_user(4), file, dossier=dossier)
    assert not security.can_view_document(_user(2), file)  # no dossier given: refused


def test_the_dossier_page_answers_come_from_the_policy():
    client, expert, pending, admin = _user(3, Role.CLIENT), _user(2), _user(4), _user(8, Role.ADMIN)
    audited = Dossier(id=9, client_id=3, expert_id=2, status=DossierStatus.AUDIT_COMPLETED)
    assert security.can_answer_audit(client, audited)
    assert not security.can_answer_audit(expert, audited)
    assert not security.can_answer_audit(admin, audited)
    audited.status = DossierStatus.AUDIT_IN_PROGRESS
    assert not security.can_answer_audit(client, audited)

    # the client's company is named to admins and the assigned expert, not to one deciding
    offered = Dossier(id=10, client_id=3, pending_expert_id=4, status=DossierStatus.ADMIN_VALIDATED)
    assert security.can_see_client_identity(admin, offered)
    assert not security.can_see_client_identity(pending, offered)
    assert security.can_see_client_identity(expert, audited)

    # the client chooses its expert; admins see the choice to propose one
    offered.status = DossierStatus.EXPERT_PENDING_ACCEPTANCE
    assert security.can_choose_expert(client, offered)
    assert not security.can_choose_expert(admin, offered)
    assert security.can_see_expert_choice(admin, offered)
    assert not security.can_see_expert_choice(pending, offered)
    offered.status = DossierStatus.EXPERT_ASSIGNED
    assert not security.can_choose_expert(client, offered)
    assert not security.can_see_expert_choice(admin, offered)
