"""Every builder makes a row the schema accepts and the services can read back, so a test that
uses one fails for its own reason, never for a stale default."""

from app.models import ApprovalStatus, DossierStatus, ReferrerStatus, Role
from app.security import can_read_thread, firm_reads_dossiers_of
from app.services import firms, messaging
from tests.factories import models as f


def test_every_builder_commits_a_consistent_world(ctx):
    client, expert, admin = f.gen_client(ctx), f.gen_expert(ctx), f.gen_admin(ctx)
    referrer = f.gen_referrer(ctx)
    owner = f.gen_expert(ctx, products=())
    firm = f.gen_firm(ctx, owner, members=[expert])
    invited = f.gen_expert(ctx)
    f.gen_invitation(ctx, firm, invited, invited_by=owner)
    dossier = f.gen_dossier(ctx, client=client, expert=expert, status=DossierStatus.COMPLETED)
    f.gen_event(ctx, dossier, action="complete", actor=admin)
    f.gen_document(ctx, dossier=dossier)
    f.gen_document(ctx, client=client)  # a company document
    thread = f.gen_thread(ctx, dossier=dossier, people=[client, expert])
    f.gen_message(ctx, thread, client)
    f.gen_notification(ctx, client)
    f.gen_review(ctx, dossier)
    f.gen_simulation(ctx, user=client, answers={})
    ctx.commit()

    assert expert.expert_profile.approval_status == ApprovalStatus.APPROVED
    assert referrer.role == Role.REFERRER
    assert referrer.referrer_profile.status == ReferrerStatus.ACTIVE
    assert len(expert.expert_profile.products) == 1
    assert firms.sight_for(owner, dossier) == {expert.id}
    runner = firms.membership(owner)
    assert firm_reads_dossiers_of(owner, runner, firms.membership(expert))
    assert can_read_thread(client, messaging.access.facts_of_dossier(dossier))
