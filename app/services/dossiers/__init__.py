"""What a dossier page and the dossier lists show (reads only; changes go through workflow)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app import security
from app.extensions import cache, db
from app.models import (
    DocumentStep,
    Dossier,
    DossierEvent,
    DossierStatus,
    Invoice,
    Party,
    User,
    utcnow,
)
from app.security import can_view_dossier, require
from app.services import firms, marketplace, sla, workflow
from app.services.dossiers import documents
from app.services.dossiers.invoices import next_number as next_invoice_number  # noqa: F401 (payments number their receipts from the same sequence)
from app.services.marketplace import reviews


@dataclass(frozen=True)
class Permissions:
    """What the viewer may do on the page, answered by the policy module; the template only
    reads these."""

    see_client: bool
    open_thread: bool
    issue_invoice: bool
    answer_audit: bool
    review_expert: bool
    choose_expert: bool
    upload_eligibility: bool
    review_eligibility: bool
    upload_complementary: bool
    review_complementary: bool
    expert_upload_step: str | None  # "audit" | "submission": the expert's files now, if any
    build_pack: bool = False


def permissions(dossier: Dossier, viewer: User) -> Permissions:
    expert_step = next(
        (
            step.value
            for step in (DocumentStep.AUDIT, DocumentStep.SUBMISSION)
            if security.can_upload_to(viewer, dossier, step)
        ),
        None,
    )
    return Permissions(
        see_client=security.can_see_client_identity(viewer, dossier),
        open_thread=security.can_open_dossier_thread(viewer, dossier),
        build_pack=security.can_build_pack(viewer, dossier),
        issue_invoice=viewer.is_admin,
        answer_audit=security.can_answer_audit(viewer, dossier),
        review_expert=security.can_review_expert(viewer, dossier),
        choose_expert=security.can_choose_expert(viewer, dossier),
        upload_eligibility=security.can_upload_to(viewer, dossier, DocumentStep.ELIGIBILITY),
        review_eligibility=security.can_review_step(viewer, dossier, DocumentStep.ELIGIBILITY),
        upload_complementary=security.can_upload_to(viewer, dossier, DocumentStep.COMPLEMENTARY),
        review_complementary=security.can_review_step(viewer, dossier, DocumentStep.COMPLEMENTARY),
        expert_upload_step=expert_step,
    )


@dataclass
class DossierView:
    dossier: Dossier
    step: int
    progress: int
    actions: list
    relations: set
    timeline: list
    eligibility: list
    complementary: list
    other_documents: list
    request: object
    expert_views: dict
    experts: list
    invoice: Invoice | None
    may: Permissions
    review: object = None
    timing: object = None  # sla.Timing: late marks and "expected reply by"


def get(dossier_id: int, viewer: User, options=()) -> Dossier:
    dossier = db.session.get(Dossier, dossier_id, options=options)
    require(
        dossier is not None and can_view_dossier(viewer, dossier, firms.sight_for(viewer, dossier))
    )
    return dossier


def experts_for(dossier: Dossier, limit: int = 20) -> list[marketplace.Row]:
    """Experts who may take the dossier, best match first (the marketplace score with the
    client's sector bonus); the first three are the recommendations."""
    sector = dossier.client.client_profile.sector if dossier.client.client_profile else None
    filters = marketplace.Filters(product_id=dossier.product_id, client_sector=sector)
    return marketplace.search(filters, limit=limit).rows


def choosing_expert_for(dossier_id: int, viewer: User) -> Dossier | None:
    """The viewer's own dossier when it is waiting for them to choose an expert, else None."""
    dossier = db.session.get(Dossier, dossier_id)
    if dossier is None or not security.can_choose_expert(viewer, dossier):
        return None
    return dossier


def page(dossier_id: int, viewer: User) -> DossierView:
    dossier = get(dossier_id, viewer, [db.joinedload(Dossier.expert)])  # named on the page
    step, progress = workflow.step_of(dossier)
    timeline = list(
        db.session.scalars(
            db.select(DossierEvent)
            .where(DossierEvent.dossier_id == dossier.id)
            .options(db.joinedload(DossierEvent.actor))
            .order_by(DossierEvent.id.desc())
            .limit(100)
        )
    )
    eligibility = documents.checklist(dossier, DocumentStep.ELIGIBILITY)
    complementary = documents.checklist(dossier, DocumentStep.COMPLEMENTARY)
    others = documents.current_documents(dossier, DocumentStep.AUDIT) + documents.current_documents(
        dossier, DocumentStep.SUBMISSION
    )
    every = [d for item in eligibility + complementary for d in item.documents] + others
    relations = workflow.relations(dossier, viewer)
    return DossierView(
        dossier=dossier,
        step=step,
        progress=progress,
        actions=workflow.available(dossier, viewer),
        relations=relations,
        timeline=timeline,
        eligibility=eligibility,
        complementary=complementary,
        other_documents=others,
        request=documents.latest_request(dossier),
        expert_views=documents.last_views(every, dossier.expert_id),
        experts=experts_for(dossier) if security.can_see_expert_choice(viewer, dossier) else [],
        invoice=db.session.scalar(db.select(Invoice).where(Invoice.dossier_id == dossier.id)),
        review=reviews.for_dossier(dossier.id),
        may=permissions(dossier, viewer),
        timing=sla.timing(dossier, viewer),
    )


LATE_DAYS = 21  # docs/domain.md §4: an active dossier this old without completion is late


@cache.cache_on_arguments()
def list_for(
    viewer: User,
    status: str | None = None,
    after_id: int | None = None,
    limit=30,
    late: bool = False,
):
    """The viewer's dossiers, newest first, keyset on the id: a client's own, an expert's
    (assigned or awaiting their answer), every dossier for an admin."""
    query = db.select(Dossier)
    if not viewer.is_admin:
        query = query.where(
            db.or_(
                Dossier.client_id == viewer.id,
                Dossier.expert_id == viewer.id,
                Dossier.pending_expert_id == viewer.id,
            )
        )
    if status in DossierStatus._value2member_map_:
        query = query.where(Dossier.status == DossierStatus(status))
    if late:
        cutoff = utcnow() - timedelta(days=LATE_DAYS)
        query = query.where(Dossier.status.in_(workflow.ACTIVE), Dossier.created_at < cutoff)
    if after_id:
        query = query.where(Dossier.id < after_id)
    rows = list(
        db.session.scalars(
            query.options(db.joinedload(Dossier.client).joinedload(User.client_profile))
            .order_by(Dossier.id.desc())
            .limit(limit + 1)
        )
    )
    return {"rows": rows[:limit], "next": rows[limit - 1].id if len(rows) > limit else None}


def for_dashboard(user: User) -> dict:
    """A client's dossiers (largest estimate first) and, among them, those waiting for the
    client (longest waiting first); an expert's acceptances (soonest deadline first) and active
    dossiers (their turn first, then the longest waiting)."""
    load = db.joinedload(Dossier.client).joinedload(User.client_profile)
    if user.role.value == "client":
        dossiers = db.session.scalars(
            db.select(Dossier)
            .where(Dossier.client_id == user.id)
            .order_by(Dossier.estimated_cents.desc().nulls_last(), Dossier.id)
        ).all()
        # a client has a dozen dossiers at most (one per product): picked here, not re-queried
        waiting = sorted(
            (d for d in dossiers if d.waiting_on == Party.CLIENT and d.status in workflow.ACTIVE),
            key=lambda d: d.waiting_since,
        )
        return {"dossiers": dossiers, "waiting": waiting}
    if user.role.value == "expert":
        to_accept = db.session.scalars(
            db.select(Dossier)
            .where(
                Dossier.pending_expert_id == user.id,
                Dossier.status == DossierStatus.EXPERT_PENDING_ACCEPTANCE,
            )
            .options(load)
            .order_by(Dossier.expert_deadline_at)
        ).all()
        active = db.session.scalars(
            db.select(Dossier)
            .where(Dossier.expert_id == user.id, Dossier.status.in_(workflow.ACTIVE))
            .options(load)
            .limit(500)
        ).all()
        scored = sorted(((closing_score(d), d) for d in active), key=lambda x: (-x[0], x[1].id))[
            :50
        ]
        return {
            "to_accept": to_accept,
            "active": scored,
            # amber and red from the clocks, and the alerts that are theirs (or their firm's)
            "levels": sla.levels_for([d.id for d in to_accept] + [d.id for _s, d in scored]),
            "alerts": sla.alerts.listing(user, sla.alerts.Filters())[0][:10],
        }
    return {}


def hours_left(dossier: Dossier) -> int:
    if dossier.expert_deadline_at is None:
        return 0
    return max(0, int((dossier.expert_deadline_at - utcnow()).total_seconds() // 3600))


def closing_score(dossier: Dossier) -> int:
    """docs/domain.md §11, 0–100: which of an expert's dossiers to push first.

    urgency 40 (days since the dossier last moved: ≤1 → 10, ≤3 → 20, ≤7 → 30, more → 40),
    value 30 (≥50 k€ 30, ≥30 k€ 25, ≥15 k€ 20, ≥5 k€ 15, else 10), probability 20 (how far
    the workflow is), ease 10 (the expert holds the next move).
    """
    days = (utcnow() - dossier.waiting_since).total_seconds() / 86400
    urgency = 10 if days <= 1 else 20 if days <= 3 else 30 if days <= 7 else 40
    euros = (dossier.final_cents or dossier.estimated_cents or 0) / 100
    value = (
        30
        if euros >= 50_000
        else 25
        if euros >= 30_000
        else 20
        if euros >= 15_000
        else 15
        if euros >= 5_000
        else 10
    )
    _step, progress = workflow.step_of(dossier)
    probability = round(20 * progress / 100)
    ease = 10 if dossier.waiting_on == Party.EXPERT else 0
    return urgency + value + probability + ease
