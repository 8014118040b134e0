"""The policy module: "may this user do this to that object", in one place.

Every object-returning view and every service calls a policy here. A foreign object is a 404
(`require`), never a 403: a stranger must not learn that it exists. Nothing here knows about
HTTP; the web wiring (login, headers, view decorators) is in app/web/security.py.
"""

from collections.abc import Collection

from app.core.errors import NotFound
from app.models import (
    ApprovalStatus,
    DocumentStep,
    DossierStatus,
    FirmRole,
    Notification,
    Role,
    ThreadKind,
    User,
)

CRM_ROLES = frozenset({Role.ADMIN, Role.SALES})
SUPPORT_ROLES = frozenset({Role.ADMIN, Role.SALES, Role.SUPPORT})

# -- policies ------------------------------------------------------------------------------------


def can_view_user(viewer: User, user: User) -> bool:
    return viewer.is_admin or viewer.id == user.id


def can_view_notification(viewer: User, notification: Notification) -> bool:
    return notification.user_id == viewer.id


def can_decide_applications(viewer: User) -> bool:
    return viewer.is_admin


def can_read_outbox(viewer: User) -> bool:
    return viewer.is_admin


def can_view_simulation(viewer: User | None, simulation, session_tokens: list[str]) -> bool:
    """A client's simulation is theirs; a visitor's belongs to the browser session that ran it."""
    if viewer is not None and viewer.is_authenticated:
        if viewer.is_admin or simulation.user_id == viewer.id:
            return True
    return simulation.user_id is None and simulation.token in session_tokens


def can_view_dossier(viewer: User | None, dossier, firm_sight: Collection[int] = ()) -> bool:
    """A dossier is its client's, its expert's (assigned, or asked to accept it) and the
    admins'. A refused or replaced expert loses sight of it. `firm_sight`: the experts whose
    dossiers the viewer reads as their firm's owner or manager (`firms.sight_for` reads it;
    only the dossier page asks, the actions never do)."""
    if viewer is None or not viewer.is_authenticated:
        return False
    if viewer.is_admin or dossier.is_party(viewer):
        return True
    return dossier.expert_id is not None and dossier.expert_id in firm_sight


# -- firms (docs/security.md, "Firms") ---------------------------------------------------------

FIRM_RUNNERS = frozenset({FirmRole.OWNER, FirmRole.MANAGER})


def is_approved_expert(user: User) -> bool:
    profile = user.expert_profile if user.role == Role.EXPERT else None
    return profile is not None and profile.approval_status == ApprovalStatus.APPROVED


def may_run_firm(user: User, member) -> bool:
    """Owners and managers run a firm (invite, remove, see the team's dossiers), and only while
    their own account is an approved expert's."""
    return (
        member is not None
        and member.user_id == user.id
        and member.role in FIRM_RUNNERS
        and is_approved_expert(user)
    )


def can_answer_invitation(user: User, invitation) -> bool:
    return invitation.user_id == user.id


def firm_reads_dossiers_of(viewer: User, runner, member) -> bool:
    """The firm rule: an approved owner or manager reads (never acts on) the dossiers assigned
    to an expert who accepted to join the same firm, for as long as both are members. An
    invitation alone shares nothing; leaving or being removed ends it at once. `runner` and
    `member` are the two membership rows (None: not a member)."""
    return member is not None and may_run_firm(viewer, runner) and member.firm_id == runner.firm_id


def can_view_document(
    viewer: User | None, document, dossier=None, client_expert_ids: Collection[int] = ()
) -> bool:
    """A dossier file follows its dossier (`dossier`, the file's). A company document (Kbis,
    RIB) is the client's, the admins', and visible to the experts of that client's dossiers
    (`client_expert_ids`: the experts assigned or asked on one of them)."""
    if viewer is None or not viewer.is_authenticated:
        return False
    if viewer.is_admin or document.client_id == viewer.id:
        return True
    if document.dossier_id is not None:
        return dossier is not None and dossier.is_party(viewer)
    return viewer.id in client_expert_ids


def thread_readers(kind, key: str, dossier_parties: tuple[int, ...], referrer_of_client) -> tuple:
    """Who reads a conversation, besides the admins (who read every one): the one rule, fed
    by `app.services.messaging.access` with what it read of the thread.

    - a dossier's thread: its client and its *current* expert (a replaced expert loses it);
    - a support thread ("support:<user>"): that user;
    - a referral thread ("referral:<referrer>:<client>"): the client, and the referrer while
      the client is still theirs (`referrer_of_client`: the client's referrer now).
    """
    if kind == ThreadKind.DOSSIER:
        return dossier_parties
    if kind == ThreadKind.SUPPORT:
        return (int(key.split(":")[1]),)
    if kind == ThreadKind.REFERRAL:
        referrer_id, client_id = (int(x) for x in key.split(":")[1:])
        return (client_id, referrer_id) if referrer_of_client == referrer_id else (client_id,)
    return ()


def can_read_thread(viewer: User | None, thread) -> bool:
    """`thread` is what `app.services.messaging.access` read of it (its `readers`)."""
    if viewer is None or not viewer.is_authenticated:
        return False
    return viewer.is_admin or viewer.id in thread.readers


def can_view_invoice(viewer: User | None, invoice) -> bool:
    if viewer is None or not viewer.is_authenticated:
        return False
    return viewer.is_admin or viewer.id in (invoice.client_id, invoice.expert_id)


def can_view_payment(viewer: User | None, payment) -> bool:
    if viewer is None or not viewer.is_authenticated:
        return False
    return viewer.is_admin or viewer.id == payment.payer_id


# who may add files to which step, in which dossier statuses (docs/domain.md §5)
UPLOAD_WINDOWS = {
    DocumentStep.ELIGIBILITY: frozenset(
        {DossierStatus.PENDING_UPLOAD, DossierStatus.ADMIN_REJECTED}
    ),
    DocumentStep.COMPLEMENTARY: frozenset(
        {
            DossierStatus.EXPERT_ASSIGNED,
            DossierStatus.DOCUMENTS_REQUESTED,
            DossierStatus.DOCUMENTS_REFUSED,
        }
    ),
    DocumentStep.AUDIT: frozenset(
        {DossierStatus.AUDIT_IN_PROGRESS, DossierStatus.AUDIT_REJECTED_BY_CLIENT}
    ),
    DocumentStep.SUBMISSION: frozenset(
        {DossierStatus.SUBMITTED_TO_ADMINISTRATION, DossierStatus.ADMINISTRATION_DECIDED}
    ),
}

# the statuses in which the dossier's expert reviews the complementary documents
COMPLEMENTARY_REVIEW = frozenset(
    {
        DossierStatus.EXPERT_ASSIGNED,
        DossierStatus.DOCUMENTS_REQUESTED,
        DossierStatus.DOCUMENTS_SENT,
        DossierStatus.DOCUMENTS_REFUSED,
    }
)


def is_uploader_of(viewer: User, dossier, step: DocumentStep) -> bool:
    """The client adds the eligibility and complementary files; the dossier's expert adds the
    audit and administration files."""
    if step in (DocumentStep.ELIGIBILITY, DocumentStep.COMPLEMENTARY):
        return viewer.id == dossier.client_id
    return dossier.expert_id is not None and viewer.id == dossier.expert_id


def can_upload_to(viewer: User, dossier, step: DocumentStep) -> bool:
    return is_uploader_of(viewer, dossier, step) and dossier.status in UPLOAD_WINDOWS[step]


def can_review_step(viewer: User, dossier, step: DocumentStep) -> bool:
    """Step 1 is reviewed by an admin while the dossier awaits validation; step 3 by the
    dossier's expert."""
    if step == DocumentStep.ELIGIBILITY:
        return viewer.is_admin and dossier.status == DossierStatus.PENDING_ADMIN_VALIDATION
    if step == DocumentStep.COMPLEMENTARY:
        return viewer.id == dossier.expert_id and dossier.status in COMPLEMENTARY_REVIEW
    return False


def can_review_document(viewer: User, document, dossier) -> bool:
    return can_review_step(viewer, dossier, document.step)


REVIEWABLE = frozenset({DossierStatus.COMPLETED, DossierStatus.ARCHIVED})


def can_review_expert(viewer: User, dossier) -> bool:
    """The client rates the dossier's expert once the dossier is over (once: `reviews`)."""
    return (
        viewer.id == dossier.client_id
        and dossier.expert_id is not None
        and dossier.status in REVIEWABLE
    )


# the statuses in which the dossier's client chooses (or changes) its expert
EXPERT_CHOICE = frozenset({DossierStatus.ADMIN_VALIDATED, DossierStatus.EXPERT_PENDING_ACCEPTANCE})


def can_choose_expert(viewer: User, dossier) -> bool:
    return viewer.id == dossier.client_id and dossier.status in EXPERT_CHOICE


def can_see_expert_choice(viewer: User, dossier) -> bool:
    """The experts offered for the dossier: its client, and admins who propose one."""
    return (viewer.is_admin or viewer.id == dossier.client_id) and dossier.status in EXPERT_CHOICE


def can_see_client_identity(viewer: User, dossier) -> bool:
    """Who the client is (their company's name) is shown to admins and the dossier's expert;
    an expert still deciding, or a firm manager looking on, sees the dossier without it."""
    return viewer.is_admin or (dossier.expert_id is not None and viewer.id == dossier.expert_id)


def can_answer_audit(viewer: User, dossier) -> bool:
    """The client accepts or refuses the expert's audit once it is completed."""
    return viewer.id == dossier.client_id and dossier.status == DossierStatus.AUDIT_COMPLETED


def can_open_dossier_thread(viewer: User, dossier) -> bool:
    """The dossier's conversation: the thread rule, asked before the thread exists."""
    parties = tuple(i for i in (dossier.client_id, dossier.expert_id) if i is not None)
    readers = thread_readers(ThreadKind.DOSSIER, f"dossier:{dossier.id}", parties, None)
    return viewer.is_admin or viewer.id in readers


def can_see_alert(viewer: User, alert, runs_firm_id: int | None = None) -> bool:
    """Admins see every alert; the person waited for sees theirs; a firm's owner or manager
    sees their firm's (`runs_firm_id`: the firm the viewer runs, read by the caller)."""
    return (
        viewer.is_admin
        or (alert.responsible_id is not None and alert.responsible_id == viewer.id)
        or (runs_firm_id is not None and alert.firm_id == runs_firm_id)
    )


def can_remind_client(viewer: User, dossier) -> bool:
    """Chase the client about what they owe: the expert holding the dossier, or an admin."""
    return viewer.is_admin or (dossier.expert_id is not None and viewer.id == dossier.expert_id)


def can_handle_alert(viewer: User, alert) -> bool:
    """Acknowledge, assign, annotate and resolve: the platform team's job."""
    return viewer.is_admin


def can_download_export(viewer: User | None, export, session_tokens: list[str]) -> bool:
    """An export is its owner's only (not even an admin's): the client's, or the visitor's
    browser session that ran the simulation."""
    sim = export.simulation
    if sim.user_id is not None:
        return viewer is not None and viewer.is_authenticated and sim.user_id == viewer.id
    return sim.token in session_tokens


def can_join_room(viewer: User, room: str, thread=None) -> bool:
    """Socket.IO rooms: `user:<id>` for oneself, `admins` for admins, `thread:<id>` for the
    people who may read that conversation (typing indicators); `thread` is what the caller
    read of it (None: no such thread)."""
    if room == f"user:{viewer.id}":
        return True
    if room == "admins":
        return viewer.is_admin
    if room == "sales":
        return can_use_crm(viewer)
    if room == "support":
        return can_handle_tickets(viewer)
    if room.startswith("thread:"):
        return thread is not None and can_read_thread(viewer, thread)
    return False


# -- the sales side and the staff (docs/domain.md A11) -----------------------------------------


def can_manage_staff(viewer: User) -> bool:
    return viewer.is_admin


def can_use_crm(viewer: User | None) -> bool:
    """Leads, the pipeline, activities and the CRM figures: sellers and admins."""
    return viewer is not None and viewer.is_authenticated and viewer.role in CRM_ROLES


def can_view_lead(viewer: User | None, lead) -> bool:
    # the sales team reads every lead (a colleague's prospect may call anyone)
    return lead is not None and can_use_crm(viewer)


def can_work_lead(viewer: User, lead) -> bool:
    """Move a lead, log on it, hand it over: an admin, its seller, or any seller while it has
    none."""
    if not can_view_lead(viewer, lead):
        return False
    return viewer.is_admin or lead.owner_id in (None, viewer.id)


def can_edit_activity(viewer: User, activity) -> bool:
    """Tick off or edit an activity: its author, the seller it is assigned to, an admin."""
    return can_use_crm(viewer) and (
        viewer.is_admin or viewer.id in (activity.author_id, activity.owner_id)
    )


def can_configure_request_form(viewer: User) -> bool:
    return viewer.is_admin


def can_handle_tickets(viewer: User | None) -> bool:
    """The support queue: support agents, sellers and admins (A11)."""
    return viewer is not None and viewer.is_authenticated and viewer.role in SUPPORT_ROLES


def can_view_ticket(viewer: User | None, ticket) -> bool:
    if ticket is None or viewer is None or not viewer.is_authenticated:
        return False
    return can_handle_tickets(viewer) or ticket.requester_id == viewer.id


def can_read_internal_notes(viewer: User, ticket) -> bool:
    """Internal notes are the team's: a requester never reads one, on any channel."""
    return can_handle_tickets(viewer)


def can_rate_ticket(viewer: User, ticket) -> bool:
    return (
        ticket.requester_id == viewer.id
        and ticket.resolved_at is not None
        and ticket.satisfaction is None
        and ticket.merged_into_id is None
    )


def require(allowed: bool) -> None:
    if not allowed:
        raise NotFound()


# -- analytics and reports (issue 28) -------------------------------------------------------------

# what an expert (their own figures) or a firm runner (the firm's) may open; the funnel and the
# referrers are the platform's
ANALYTICS_SCOPED_VIEWS = ("experts", "products", "sla")


def analytics_scope(viewer: User | None, view: str, runs_firm_id: int | None) -> dict | None:
    """The filters forced on what `viewer` reads of `view`: none for an admin, the firm for its
    owner or manager, themselves for an approved expert; None when the view is not theirs."""
    if viewer is None or not viewer.is_authenticated:
        return None
    if viewer.is_admin:
        return {}
    if view in ANALYTICS_SCOPED_VIEWS and is_approved_expert(viewer):
        return {"firm_id": runs_firm_id} if runs_firm_id else {"expert_id": viewer.id}
    return None


def can_use_analytics(viewer: User | None) -> bool:
    return (
        viewer is not None
        and viewer.is_authenticated
        and (viewer.is_admin or is_approved_expert(viewer))
    )


def can_view_report(viewer: User | None, report) -> bool:
    """A saved report and its runs are its owner's (admins see every one)."""
    return viewer is not None and (viewer.is_admin or report.owner_id == viewer.id)


def can_build_pack(viewer: User | None, dossier) -> bool:
    """The dossier pack: the admins, the client and the dossier's expert."""
    return viewer is not None and (
        viewer.is_admin or viewer.id in (dossier.client_id, dossier.expert_id)
    )


# -- operations (docs/domain.md A12) -------------------------------------------------------------


def can_watch_service(viewer: User | None) -> bool:
    """The status page and LivePulse: every staff member (support hears of outages first)."""
    return viewer is not None and viewer.is_authenticated and viewer.role in SUPPORT_ROLES


def can_run_alerts(viewer: User | None) -> bool:
    """Alert rules, acknowledging and resolving alerts, checking now: admins."""
    return viewer is not None and viewer.is_authenticated and viewer.is_admin
