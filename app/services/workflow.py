"""The dossier workflow (DOMAIN A4, B §4.1–§4.6): one transition table, one function.

Each `Action` says who may take it (the dossier's client, its expert, the expert asked to accept
it, an admin), from which statuses, to which status, who is responsible afterwards, and which
preconditions must hold. `transition()` is the only way a dossier's status changes: it checks
all of that, applies the action's fields, writes the timeline, bumps the dossier's version
(two people acting on the same state: one wins, the other gets a Conflict) and notifies the
parties after commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from app.core.errors import Conflict, InvalidTransition, ValidationFailed
from app.core.validators import parse_id
from app.extensions import db
from app.i18n import status_label as i18n_status_label
from app.models import (
    ApprovalStatus,
    Decision,
    DocumentRequest,
    DocumentRequestItem,
    DocumentStatus,
    DocumentStep,
    Dossier,
    DossierEvent,
    DossierStatus,
    ExpertProduct,
    ExpertProfile,
    Party,
    Priority,
    User,
    utcnow,
)
from app.security import can_view_dossier, require
from app.services import documents, emails, marketplace, messaging, notifications
from app.tasks import enqueue

S = DossierStatus

# who may act, relative to the dossier
CLIENT, EXPERT, PENDING_EXPERT, ADMIN = "client", "expert", "pending_expert", "admin"

# statuses in which the dossier is alive (hold and cancel apply)
FINAL = frozenset({S.COMPLETED, S.CANCELLED, S.ARCHIVED})
ACTIVE = frozenset(set(S) - FINAL - {S.ON_HOLD})
# an expert's load: dossiers they accepted and have not finished
EXPERT_LOAD = frozenset(ACTIVE - {S.PENDING_UPLOAD, S.PENDING_ADMIN_VALIDATION, S.ADMIN_VALIDATED})

# B §4.2: the step (1–6) and progress shown for each status
STEP = {
    S.PENDING_UPLOAD: (1, 0),
    S.PENDING_ADMIN_VALIDATION: (1, 10),
    S.ADMIN_REJECTED: (1, 10),
    S.ADMIN_VALIDATED: (2, 25),
    S.EXPERT_PENDING_ACCEPTANCE: (2, 28),
    S.EXPERT_ASSIGNED: (3, 35),
    S.DOCUMENTS_REQUESTED: (3, 40),
    S.DOCUMENTS_SENT: (3, 45),
    S.DOCUMENTS_REFUSED: (3, 40),
    S.DOCUMENTS_VALIDATED: (4, 50),
    S.AUDIT_IN_PROGRESS: (4, 55),
    S.AUDIT_COMPLETED: (4, 70),
    S.AUDIT_REJECTED_BY_CLIENT: (4, 70),
    S.AUDIT_VALIDATED: (5, 75),
    S.SUBMITTED_TO_ADMINISTRATION: (6, 80),
    S.ADMINISTRATION_DECIDED: (6, 90),
    S.REFUND_CONFIRMED: (6, 95),
    S.FEE_PAYMENT_PENDING: (6, 97),
    S.COMPLETED: (6, 100),
}
STEPS = (
    _l("Eligibility"),
    _l("Expert"),
    _l("Documents"),
    _l("Audit"),
    _l("Your approval"),
    _l("Refund"),
)
# B §4.3: the five steps of a partner product
QUOTE_STEPS = (
    _l("Initial checks"),
    _l("Your needs"),
    _l("Partner proposal"),
    _l("Quote"),
    _l("Billing and installation"),
)
QUOTE_STEP = {
    S.PENDING_UPLOAD: (1, 0),
    S.QUOTE_REQUESTED: (3, 40),
    S.QUOTE_PROPOSED: (4, 60),
    S.QUOTE_REJECTED: (4, 60),
    S.QUOTE_ACCEPTED: (5, 80),
    S.COMPLETED: (5, 100),
}


def steps_for(dossier: Dossier) -> tuple:
    return QUOTE_STEPS if dossier.is_quote_flow else STEPS


# statuses that stop a dossier where it was: it shows the step and progress it had reached
STOPPED = frozenset({S.ON_HOLD, S.CANCELLED, S.ARCHIVED})


def step_of(dossier: Dossier) -> tuple[int, int]:
    status = dossier.status
    if status in STOPPED and dossier.held_status is not None:
        status = dossier.held_status
    if dossier.is_quote_flow:
        if (
            status == S.PENDING_UPLOAD
            and documents.missing(documents.checklist(dossier, DocumentStep.ELIGIBILITY)) == []
        ):
            return (2, 20)  # the document is there: the specific questions come next
        return QUOTE_STEP.get(status, (5, 100))
    return STEP.get(status, (6, 100))


def takes(*names: str):
    """Declare the fields a person may send with an action (everything else is dropped before
    the action runs, so a form can never set what the action decides itself)."""

    def mark(apply):
        apply.fields = frozenset(names)
        return apply

    return mark


class Params(dict):
    """The submitted values of the action's declared fields, read with helpers that raise
    ValidationFailed per field. What the action decides (its timeline note and data, who is
    waited on, whether an invoice follows) goes to `out`, which no request can reach."""

    def __init__(self, values=(), /) -> None:
        super().__init__(values)
        self.out: dict = {}

    def text(self, name: str, message, max_len: int = 2000, required: bool = True) -> str:
        value = str(self.get(name) or "").strip()
        if required and not value:
            raise ValidationFailed(str(message), **{name: str(message)})
        if len(value) > max_len:
            error = _("At most %(n)d characters.", n=max_len)
            raise ValidationFailed(error, **{name: error})
        return value

    def cents(self, name: str) -> int:
        raw = str(self.get(name) or "").replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        try:
            value = Decimal(raw.replace(",", ".").removesuffix("€"))
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value <= 0 or value > Decimal("1e10"):
            error = _("Enter an amount in euros greater than zero, for example 12 500.")
            raise ValidationFailed(error, **{name: error})
        return int((value * 100).quantize(Decimal(1)))

    def day(self, name: str) -> date:
        try:
            value = date.fromisoformat(str(self.get(name) or ""))
        except ValueError:
            value = None
        if value is None or value > date.today() + timedelta(days=1):
            error = _("Enter a date that is not in the future (day/month/year).")
            raise ValidationFailed(error, **{name: error})
        return value


Guard = Callable[[Dossier, User], str | None]
FINANCIAL, QUOTE = "financial", "quote"
BOTH = frozenset({FINANCIAL, QUOTE})


def flow_of(dossier: Dossier) -> str:
    return QUOTE if dossier.is_quote_flow else FINANCIAL


@dataclass(frozen=True)
class Action:
    name: str
    label: object
    who: frozenset[str]
    sources: frozenset[DossierStatus]
    target: DossierStatus | None  # None: `apply` decides
    waiting_on: Party | None  # None: `apply` decides
    guards: tuple[Guard, ...] = ()
    apply: Callable[[Dossier, User, Params], DossierStatus | None] | None = None
    # a form is needed (reason, amounts…); otherwise a single button
    form: bool = False
    danger: bool = False
    # which products' flow it belongs to: the six financial steps, the quote flow, or both
    flows: frozenset[str] = BOTH
    # an exception (hold, cancel, archive): offered apart, never as "the next thing to do"
    secondary: bool = False

    @property
    def fields(self) -> frozenset[str]:
        """What a person may send with it: what its `apply` declared with `takes`."""
        return getattr(self.apply, "fields", frozenset())


# -- guards: None when satisfied, else the sentence saying why not and what to do ---------------


def _missing(dossier: Dossier, step: DocumentStep) -> str:
    """The required checklist entries of `step` still unanswered, as one readable list."""
    items = documents.missing(documents.checklist(dossier, step))
    return ", ".join(item.label for item in items)


def _any_rejected(dossier: Dossier, step: DocumentStep) -> bool:
    return any(item.rejected for item in documents.checklist(dossier, step))


def _eligibility_documents(dossier: Dossier, actor: User) -> str | None:
    missing = _missing(dossier, DocumentStep.ELIGIBILITY)
    return _("Add the missing documents first: %(list)s.", list=missing) if missing else None


def _no_rejected_eligibility(dossier: Dossier, actor: User) -> str | None:
    if _any_rejected(dossier, DocumentStep.ELIGIBILITY):
        return _("A document is refused: reject the eligibility with a reason instead.")
    return None


def _requested_documents(dossier: Dossier, actor: User) -> str | None:
    missing = _missing(dossier, DocumentStep.COMPLEMENTARY)
    return _("Add the requested documents first: %(list)s.", list=missing) if missing else None


def _complementary_reviewed(dossier: Dossier, actor: User) -> str | None:
    if _any_rejected(dossier, DocumentStep.COMPLEMENTARY):
        return _("A document is refused: send the documents back to the client instead.")
    return None


def _some_rejected(dossier: Dossier, actor: User) -> str | None:
    if not _any_rejected(dossier, DocumentStep.COMPLEMENTARY):
        return _("Refuse at least one document, with its reason, before sending them back.")
    return None


def _has_proposal(dossier: Dossier, actor: User) -> str | None:
    if dossier.proposed_expert_id is None:
        return _("No expert has been proposed for this dossier.")
    return None


def _within_deadline(dossier: Dossier, actor: User) -> str | None:
    if dossier.expert_deadline_at and utcnow() > dossier.expert_deadline_at:
        return _("The 48 hours to accept this dossier have passed; the client chooses again.")
    return None


def _decision_refused(dossier: Dossier, actor: User) -> str | None:
    if dossier.decision != Decision.REFUSED:
        return _("Only a dossier refused by the administration is closed this way.")
    return None


def _decision_granted(dossier: Dossier, actor: User) -> str | None:
    if dossier.decision not in (Decision.ACCEPTED, Decision.PARTIAL):
        return _("The administration refused this dossier: there is no refund to confirm.")
    return None


def _client_before_expert(dossier: Dossier, actor: User) -> str | None:
    if actor.id == dossier.client_id and dossier.expert_id is not None:
        return _("Your expert is working on this dossier: ask an administrator to cancel it.")
    return None


# -- experts who may be offered a dossier (A4: approved, holding the product, with capacity) ----


def offerable_experts_query(product_id: int):
    return (
        db.select(ExpertProfile)
        .join(ExpertProduct, ExpertProduct.expert_id == ExpertProfile.id)
        .join(User, User.id == ExpertProfile.user_id)
        .where(
            ExpertProduct.product_id == product_id,
            ExpertProduct.active.is_(True),
            ExpertProfile.approval_status == ApprovalStatus.APPROVED,
            ExpertProfile.available.is_(True),
            User.active.is_(True),
            ExpertProfile.active_dossiers < ExpertProfile.capacity,
        )
    )


def _shift_load(expert_user_id: int | None, delta: int) -> None:
    if expert_user_id is not None and delta:
        db.session.execute(
            db.update(ExpertProfile)
            .where(ExpertProfile.user_id == expert_user_id)
            .values(active_dossiers=ExpertProfile.active_dossiers + delta)
        )


def recount_loads() -> int:
    """Every expert's active dossiers counted again from the dossiers (the nightly safety net
    behind the counter `transition()` keeps, and the only count after bulk imports)."""
    count = (
        db.select(db.func.count(Dossier.id))
        .where(Dossier.expert_id == ExpertProfile.user_id, Dossier.status.in_(EXPERT_LOAD))
        .scalar_subquery()
    )
    changed = db.session.execute(
        db.update(ExpertProfile)
        .where(ExpertProfile.active_dossiers != count)
        .values(active_dossiers=count)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return changed


def _offerable(dossier: Dossier, expert_user_id) -> User:
    expert_user_id = parse_id(expert_user_id) or 0
    profile = db.session.scalar(
        offerable_experts_query(dossier.product_id).where(ExpertProfile.user_id == expert_user_id)
    )
    if profile is None:
        error = _(
            "This expert cannot take the dossier (not approved, not holding this product, "
            "or fully booked). Choose another one."
        )
        raise ValidationFailed(error, expert_id=error)
    return profile.user


# -- what each action writes ---------------------------------------------------------------------


@takes("note")
def _validate_eligibility(d: Dossier, actor: User, p: Params):
    d.eligibility_validated_at = utcnow()
    for item in documents.checklist(d, DocumentStep.ELIGIBILITY):
        for doc in item.documents:
            if doc.status == DocumentStatus.PENDING:
                doc.status, doc.reviewed_by_id, doc.reviewed_at = (
                    DocumentStatus.VALIDATED,
                    actor.id,
                    utcnow(),
                )
    p.out["note"] = p.text("note", "", required=False) or None


@takes("reason")
def _reason(d: Dossier, actor: User, p: Params):
    p.out["note"] = p.text("reason", _("Give a reason: the other party will read it."))


def _ask_expert(d: Dossier, expert: User, actor: User) -> None:
    d.pending_expert_id = expert.id
    d.expert_selected_at = utcnow()
    hours = current_app.config["EXPERT_ACCEPTANCE_HOURS"]
    d.expert_deadline_at = d.expert_selected_at + timedelta(hours=hours)
    d.proposed_expert_id, d.proposal_message = None, None
    _notify(
        expert,
        d,
        "expert_selected",
        _l("A client chose you for a dossier"),
        _l("You have 48 hours to accept or refuse it."),
        Priority.HIGH,
    )


@takes("expert_id")
def _select_expert(d: Dossier, actor: User, p: Params):
    previous = d.pending_expert
    expert = _offerable(d, p.get("expert_id"))
    proposed = d.proposed_expert
    if proposed is not None and proposed.id != expert.id:  # B §4.5: the declined proposal
        _notify(
            proposed,
            d,
            "expert_proposal_declined",
            _l("The client chose another expert"),
            _l("The dossier we proposed to you went to another expert."),
            Priority.LOW,
        )
    if previous is not None and previous.id != expert.id:
        _notify(
            previous,
            d,
            "expert_selection_withdrawn",
            _l("A client chose another expert"),
            _l("You no longer need to answer for this dossier."),
            Priority.LOW,
        )
    _ask_expert(d, expert, actor)
    p.out["data"] = {"expert_id": expert.id, "expert": expert.full_name}


@takes("expert_id", "message")
def _propose_expert(d: Dossier, actor: User, p: Params):
    expert = _offerable(d, p.get("expert_id"))
    d.proposed_expert_id = expert.id
    d.proposal_message = p.text("message", "", required=False) or None
    p.out["note"] = d.proposal_message
    p.out["data"] = {"expert_id": expert.id, "expert": expert.full_name}


def _accept_proposal(d: Dossier, actor: User, p: Params):
    expert = _offerable(d, d.proposed_expert_id)
    _ask_expert(d, expert, actor)
    p.out["data"] = {"expert_id": expert.id, "expert": expert.full_name}


@takes("expert_id")
def _assign_expert(d: Dossier, actor: User, p: Params):
    expert = _offerable(d, p.get("expert_id"))
    _take(d, expert)
    p.out["data"] = {"expert_id": expert.id, "expert": expert.full_name}
    _notify(
        expert,
        d,
        "expert_assigned",
        _l("An administrator assigned you a dossier"),
        _l("Review the client's documents to start."),
        Priority.HIGH,
    )


def _take(d: Dossier, expert: User) -> None:
    d.expert_id, d.expert_accepted_at = expert.id, utcnow()
    d.pending_expert_id = d.expert_deadline_at = d.proposed_expert_id = None


def _accept(d: Dossier, actor: User, p: Params):
    _offerable(d, actor.id)  # still approved, holding the product, with room for one more
    _take(d, actor)


@takes("reason")
def _refuse(d: Dossier, actor: User, p: Params):
    _reason(d, actor, p)
    d.pending_expert_id = d.expert_deadline_at = d.expert_selected_at = None


# A transition's own rows are written as plain statements: through the unit of work, the ORM
# cost more than the writes themselves (about 1 ms of a ~9 ms transition)
_NEW_EVENT = db.insert(DossierEvent.__table__).returning(DossierEvent.__table__.c.id)
_NEW_REQUEST = db.insert(DocumentRequest.__table__).returning(DocumentRequest.__table__.c.id)


@takes("items", "required", "message")
def _request_documents(d: Dossier, actor: User, p: Params):
    labels = [str(v).strip() for v in p.get("items", []) if str(v).strip()]
    required = set(p.get("required", []))
    if not labels:
        error = _("List at least one document to request.")
        raise ValidationFailed(error, items=error)
    if len(labels) > 20 or any(len(label) > 200 for label in labels):
        error = _("At most 20 documents of 200 characters each.")
        raise ValidationFailed(error, items=error)
    message = p.text("message", "", max_len=2000, required=False)
    documents._forget(d)
    request_id = db.session.execute(
        _NEW_REQUEST,
        {"dossier_id": d.id, "expert_id": actor.id, "message": message, "created_at": utcnow()},
    ).scalar_one()
    db.session.execute(
        db.insert(DocumentRequestItem.__table__),
        [
            {
                "request_id": request_id,
                "label": label,
                "required": str(i) in required or not required,
                "position": i,
            }
            for i, label in enumerate(labels)
        ],
    )
    p.out["note"] = message or None
    p.out["data"] = {"items": labels}


def _validate_documents(d: Dossier, actor: User, p: Params):
    for doc in documents.current_documents(d, DocumentStep.COMPLEMENTARY):
        if doc.status == DocumentStatus.PENDING:
            doc.status, doc.reviewed_by_id, doc.reviewed_at = (
                DocumentStatus.VALIDATED,
                actor.id,
                utcnow(),
            )


@takes("final_amount", "report", "fee_percent")
def _complete_audit(d: Dossier, actor: User, p: Params):
    d.final_cents = p.cents("final_amount")
    d.audit_report = p.text("report", _("Write the audit report for the client."), 20000)
    fee = str(p.get("fee_percent") or "").strip().replace(",", ".")
    d.negotiated_fee_bp = None
    if fee:
        # B §4.6: between the cabinet's minimum for this product and the expert's own fee; a
        # cabinet that set no minimum (or no cabinet) allows no negotiation
        profile = actor.expert_profile
        default_bp = profile.fee_bp if profile else 0
        floor = profile.cabinet.min_fee_bp(d.product_id) if profile and profile.cabinet else None
        if floor is None:
            error = _("Your firm has not set a minimum fee for this product: the fee is fixed.")
            raise ValidationFailed(error, fee_percent=error)
        try:
            bp = int((Decimal(fee) * 100).quantize(Decimal(1)))
        except InvalidOperation:
            bp = -1
        if not max(floor, 1) <= bp <= default_bp:
            error = _(
                "The negotiated fee must be between %(min)s %% and %(max)s %%.",
                min=f"{floor / 100:g}",
                max=f"{default_bp / 100:g}",
            )
            raise ValidationFailed(error, fee_percent=error)
        d.negotiated_fee_bp = bp
    d.audit_completed_at = utcnow()
    p.out["data"] = {
        "initial_cents": d.estimated_cents,
        "final_cents": d.final_cents,
        "fee_bp": d.negotiated_fee_bp,
    }


def _rate(name: str) -> int | None:
    raw = str(current_app.config.get(name) or "").strip()
    return int(raw) if raw.isdigit() else None


def _validate_audit(d: Dossier, actor: User, p: Params):
    """A5: the rates are frozen now, from the expert's fee (or the one negotiated)."""
    expert_fee = d.expert.expert_profile.fee_bp if d.expert and d.expert.expert_profile else None
    d.client_fee_bp = d.negotiated_fee_bp or expert_fee or _rate("FEE_CLIENT_DEFAULT_BP")
    d.platform_fee_bp = _rate("FEE_PLATFORM_BP")
    d.referrer_share_bp = _rate("FEE_REFERRER_SHARE_BP")
    d.audit_validated_at = utcnow()
    p.out["data"] = {
        "client_fee_bp": d.client_fee_bp,
        "platform_fee_bp": d.platform_fee_bp,
        "referrer_share_bp": d.referrer_share_bp,
    }


@takes("submitted_on", "reference", "administration")
def _submit(d: Dossier, actor: User, p: Params):
    day = p.day("submitted_on")
    d.submission_reference = p.text("reference", _("Give the acknowledgement reference."), 80)
    d.administration = p.text("administration", _("Name the administration (DGDDI, URSSAF…)."), 80)
    d.submitted_at = utcnow().replace(year=day.year, month=day.month, day=day.day)
    p.out["data"] = {"reference": d.submission_reference, "administration": d.administration}


@takes("decision", "amount", "note")
def _record_decision(d: Dossier, actor: User, p: Params):
    try:
        decision = Decision(p.get("decision"))
    except ValueError:
        error = _("Choose the administration's decision.")
        raise ValidationFailed(error, decision=error) from None
    d.decision = decision
    d.decided_cents = p.cents("amount") if decision != Decision.REFUSED else 0
    d.decided_at = utcnow()
    p.out["note"] = p.text("note", "", required=False) or None
    p.out["data"] = {"decision": decision.value, "amount_cents": d.decided_cents}
    p.out["waiting_on"] = Party.ADMIN if decision == Decision.REFUSED else Party.EXPERT


@takes("amount", "reference", "refunded_on")
def _confirm_refund(d: Dossier, actor: User, p: Params):
    d.obtained_cents = p.cents("amount")
    d.refund_reference = p.text("reference", "", 80, required=False) or None
    day = p.day("refunded_on")
    d.refunded_at = utcnow().replace(year=day.year, month=day.month, day=day.day)
    p.out["data"] = {"amount_cents": d.obtained_cents}
    p.out["after_commit_invoice"] = True


def _complete(d: Dossier, actor: User, p: Params):
    d.completed_at = utcnow()
    if d.expert is not None and d.expert.expert_profile is not None:
        # the marketplace ranks on it; an UPDATE … + 1 so two completions never lose one
        db.session.execute(
            db.update(ExpertProfile)
            .where(ExpertProfile.id == d.expert.expert_profile.id)
            .values(completed_count=ExpertProfile.completed_count + 1)
        )


@takes("reason")
def _hold(d: Dossier, actor: User, p: Params):
    _reason(d, actor, p)
    d.held_status = d.status


def _resume(d: Dossier, actor: User, p: Params):
    target, d.held_status = d.held_status, None
    p.out["waiting_on"] = WAITING_AFTER.get(target, Party.ADMIN)
    return target


@takes("reason")
def _cancel(d: Dossier, actor: User, p: Params):
    _reason(d, actor, p)
    d.pending_expert_id = d.expert_deadline_at = None
    if d.status != S.ON_HOLD:  # (a held dossier already keeps where it stopped)
        d.held_status = d.status  # where it stopped: its progress stays what it was


# B §4.3 step 2: what each partner needs to know, pre-filled from the simulation's answers
QUOTE_QUESTIONS = {
    "CHRONO": (
        ("fleet", _l("How many vehicles over 7.5 tonnes?"), None),
        ("equipped", _l("How many already have a smart tachograph?"), None),
        ("installations", _l("How many installations do you want?"), None),
    ),
    "SOLID": (
        ("employees", _l("How many employees are paid each month?"), "GENERAL_003"),
        ("drivers", _l("How many of them are drivers?"), None),
    ),
    "ELEC": (
        ("sites", _l("How many sites are supplied?"), None),
        ("yearly_bill", _l("Yearly electricity bill (€)"), "ENERGIE_ELEC_MONTANT"),
    ),
    "GAZ": (
        ("sites", _l("How many sites are supplied?"), None),
        ("yearly_bill", _l("Yearly gas bill (€)"), "ENERGIE_GAZ_MONTANT"),
    ),
}


QUOTE_FIELDS = tuple(sorted({name for qs in QUOTE_QUESTIONS.values() for name, *_ in qs}))


def quote_questions(dossier: Dossier) -> list[tuple[str, str, str]]:
    """(name, question, pre-filled value): earlier answers first, then the simulation's."""
    given = dossier.quote_answers or {}
    answers = dossier.simulation.answers if dossier.simulation is not None else {}
    found = []
    for name, label, source in QUOTE_QUESTIONS.get(dossier.product.code, ()):
        value = given.get(name)
        if value is None and source:
            value = answers.get(source)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        found.append((name, str(label), "" if value is None else str(value)))
    return found


def _distributor_for(dossier: Dossier) -> User | None:
    """B §4.5 "automatic": the product's distributor expert, else the best holder available."""

    query = offerable_experts_query(dossier.product_id).where(ExpertProduct.distributor.is_(True))
    profile = db.session.scalar(query.order_by(ExpertProfile.id).limit(1))
    if profile is not None:
        return profile.user
    rows = marketplace.search(marketplace.Filters(product_id=dossier.product_id), limit=1).rows
    return db.session.get(User, rows[0].user_id) if rows else None


def _partner_available(dossier: Dossier, actor: User) -> str | None:
    if _distributor_for(dossier) is None:
        return _("No partner takes this product right now. Please try again in a few days.")
    return None


@takes(*QUOTE_FIELDS)
def _request_quote(d: Dossier, actor: User, p: Params):
    answers = {}
    for name, _label, _value in quote_questions(d):
        raw = str(p.get(name) or "").strip().replace(" ", "").replace("\u202f", "")
        if not raw.isdigit() or int(raw) > 10**9:
            error = _("Enter a whole number, 0 or more.")
            raise ValidationFailed(error, **{name: error})
        answers[name] = int(raw)
    d.quote_answers = answers
    partner = _distributor_for(d)
    d.expert_id, d.expert_accepted_at = partner.id, utcnow()
    p.out["data"] = {"answers": answers, "partner": partner.full_name}
    _notify(
        partner,
        d,
        "quote_request",
        _l("A client asks you for a quote"),
        _l("Their needs are in the dossier."),
        Priority.HIGH,
    )


@takes("amount", "details")
def _propose_quote(d: Dossier, actor: User, p: Params):
    d.quote_cents = p.cents("amount")
    d.quote_text = p.text("details", _("Describe what the quote includes."), 5000)
    p.out["data"] = {"amount_cents": d.quote_cents}


@takes("comment")
def _comment(d: Dossier, actor: User, p: Params):
    p.out["note"] = p.text("comment", _("Write your comment for the partner."))


A = Action
FIN = frozenset({FINANCIAL})
QUO = frozenset({QUOTE})
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        A(
            "submit_documents",
            _l("Send my documents for review"),
            frozenset({CLIENT}),
            frozenset({S.PENDING_UPLOAD, S.ADMIN_REJECTED}),
            S.PENDING_ADMIN_VALIDATION,
            Party.ADMIN,
            (_eligibility_documents,),
            flows=FIN,
        ),
        A(
            "validate_eligibility",
            _l("Confirm the eligibility"),
            frozenset({ADMIN}),
            frozenset({S.PENDING_ADMIN_VALIDATION}),
            S.ADMIN_VALIDATED,
            Party.CLIENT,
            (_no_rejected_eligibility,),
            _validate_eligibility,
            flows=FIN,
        ),
        A(
            "reject_eligibility",
            _l("Refuse the eligibility"),
            frozenset({ADMIN}),
            frozenset({S.PENDING_ADMIN_VALIDATION}),
            S.ADMIN_REJECTED,
            Party.CLIENT,
            (),
            _reason,
            form=True,
            danger=True,
            flows=FIN,
        ),
        A(
            "select_expert",
            _l("Choose this expert"),
            frozenset({CLIENT}),
            frozenset({S.ADMIN_VALIDATED, S.EXPERT_PENDING_ACCEPTANCE}),
            S.EXPERT_PENDING_ACCEPTANCE,
            Party.EXPERT,
            (),
            _select_expert,
            form=True,
            flows=FIN,
        ),
        A(
            "propose_expert",
            _l("Propose an expert"),
            frozenset({ADMIN}),
            frozenset({S.ADMIN_VALIDATED}),
            S.ADMIN_VALIDATED,
            Party.CLIENT,
            (),
            _propose_expert,
            form=True,
            flows=FIN,
        ),
        A(
            "accept_proposal",
            _l("Accept the proposed expert"),
            frozenset({CLIENT}),
            frozenset({S.ADMIN_VALIDATED}),
            S.EXPERT_PENDING_ACCEPTANCE,
            Party.EXPERT,
            (_has_proposal,),
            _accept_proposal,
            flows=FIN,
        ),
        A(
            "assign_expert",
            _l("Assign an expert directly"),
            frozenset({ADMIN}),
            frozenset({S.ADMIN_VALIDATED, S.EXPERT_PENDING_ACCEPTANCE}),
            S.EXPERT_ASSIGNED,
            Party.EXPERT,
            (),
            _assign_expert,
            form=True,
            flows=FIN,
        ),
        A(
            "accept",
            _l("Accept the dossier"),
            frozenset({PENDING_EXPERT}),
            frozenset({S.EXPERT_PENDING_ACCEPTANCE}),
            S.EXPERT_ASSIGNED,
            Party.EXPERT,
            (_within_deadline,),
            _accept,
            flows=FIN,
        ),
        A(
            "refuse",
            _l("Refuse the dossier"),
            frozenset({PENDING_EXPERT}),
            frozenset({S.EXPERT_PENDING_ACCEPTANCE}),
            S.ADMIN_VALIDATED,
            Party.CLIENT,
            (),
            _refuse,
            form=True,
            danger=True,
            flows=FIN,
        ),
        A(
            "request_documents",
            _l("Request documents"),
            frozenset({EXPERT}),
            frozenset(
                {S.EXPERT_ASSIGNED, S.DOCUMENTS_REQUESTED, S.DOCUMENTS_SENT, S.DOCUMENTS_REFUSED}
            ),
            S.DOCUMENTS_REQUESTED,
            Party.CLIENT,
            (),
            _request_documents,
            form=True,
            flows=FIN,
        ),
        A(
            "send_documents",
            _l("Send the requested documents"),
            frozenset({CLIENT}),
            frozenset({S.DOCUMENTS_REQUESTED, S.DOCUMENTS_REFUSED}),
            S.DOCUMENTS_SENT,
            Party.EXPERT,
            (_requested_documents,),
            flows=FIN,
        ),
        A(
            "validate_documents",
            _l("Validate the documents"),
            frozenset({EXPERT}),
            frozenset({S.EXPERT_ASSIGNED, S.DOCUMENTS_SENT}),
            S.DOCUMENTS_VALIDATED,
            Party.EXPERT,
            (_complementary_reviewed,),
            _validate_documents,
            flows=FIN,
        ),
        A(
            "refuse_documents",
            _l("Send the documents back"),
            frozenset({EXPERT}),
            frozenset({S.DOCUMENTS_SENT}),
            S.DOCUMENTS_REFUSED,
            Party.CLIENT,
            (_some_rejected,),
            _reason,
            form=True,
            danger=True,
            flows=FIN,
        ),
        A(
            "start_audit",
            _l("Start the audit"),
            frozenset({EXPERT}),
            frozenset({S.DOCUMENTS_VALIDATED}),
            S.AUDIT_IN_PROGRESS,
            Party.EXPERT,
            flows=FIN,
        ),
        A(
            "complete_audit",
            _l("Send the audit to the client"),
            frozenset({EXPERT}),
            frozenset({S.AUDIT_IN_PROGRESS, S.AUDIT_REJECTED_BY_CLIENT}),
            S.AUDIT_COMPLETED,
            Party.CLIENT,
            (),
            _complete_audit,
            form=True,
            flows=FIN,
        ),
        A(
            "validate_audit",
            _l("Accept the audit and its fee"),
            frozenset({CLIENT}),
            frozenset({S.AUDIT_COMPLETED}),
            S.AUDIT_VALIDATED,
            Party.EXPERT,
            (),
            _validate_audit,
            flows=FIN,
        ),
        A(
            "reject_audit",
            _l("Refuse the audit"),
            frozenset({CLIENT}),
            frozenset({S.AUDIT_COMPLETED}),
            S.AUDIT_REJECTED_BY_CLIENT,
            Party.EXPERT,
            (),
            _reason,
            form=True,
            danger=True,
            flows=FIN,
        ),
        A(
            "submit",
            _l("Record the submission to the administration"),
            frozenset({EXPERT}),
            frozenset({S.AUDIT_VALIDATED}),
            S.SUBMITTED_TO_ADMINISTRATION,
            Party.ADMINISTRATION,
            (),
            _submit,
            form=True,
            flows=FIN,
        ),
        A(
            "record_decision",
            _l("Record the administration's decision"),
            frozenset({EXPERT}),
            frozenset({S.SUBMITTED_TO_ADMINISTRATION}),
            S.ADMINISTRATION_DECIDED,
            None,
            (),
            _record_decision,
            form=True,
            flows=FIN,
        ),
        A(
            "confirm_refund",
            _l("Confirm the refund was paid"),
            frozenset({EXPERT}),
            frozenset({S.ADMINISTRATION_DECIDED}),
            S.REFUND_CONFIRMED,
            Party.CLIENT,
            (_decision_granted,),
            _confirm_refund,
            form=True,
            flows=FIN,
        ),
        A(
            "declare_fee_paid",
            _l("I have paid the expert's fee"),
            frozenset({CLIENT}),
            frozenset({S.REFUND_CONFIRMED}),
            S.FEE_PAYMENT_PENDING,
            Party.EXPERT,
            flows=FIN,
        ),
        A(
            "confirm_fee_received",
            _l("Confirm the fee was received"),
            frozenset({EXPERT}),
            frozenset({S.FEE_PAYMENT_PENDING}),
            S.COMPLETED,
            Party.NOBODY,
            (),
            _complete,
            flows=FIN,
        ),
        A(
            "close_refused",
            _l("Close the refused dossier"),
            frozenset({EXPERT, ADMIN}),
            frozenset({S.ADMINISTRATION_DECIDED}),
            S.COMPLETED,
            Party.NOBODY,
            (_decision_refused,),
            _complete,
            flows=FIN,
        ),
        A(
            "request_quote",
            _l("Send my needs to the partner"),
            frozenset({CLIENT}),
            frozenset({S.PENDING_UPLOAD}),
            S.QUOTE_REQUESTED,
            Party.EXPERT,
            (_eligibility_documents, _partner_available),
            _request_quote,
            form=True,
            flows=QUO,
        ),
        A(
            "propose_quote",
            _l("Send the quote"),
            frozenset({EXPERT}),
            frozenset({S.QUOTE_REQUESTED, S.QUOTE_REJECTED}),
            S.QUOTE_PROPOSED,
            Party.CLIENT,
            (),
            _propose_quote,
            form=True,
            flows=QUO,
        ),
        A(
            "accept_quote",
            _l("Accept the quote"),
            frozenset({CLIENT}),
            frozenset({S.QUOTE_PROPOSED}),
            S.QUOTE_ACCEPTED,
            Party.EXPERT,
            flows=QUO,
        ),
        A(
            "reject_quote",
            _l("Refuse the quote"),
            frozenset({CLIENT}),
            frozenset({S.QUOTE_PROPOSED}),
            S.QUOTE_REJECTED,
            Party.EXPERT,
            (),
            _reason,
            form=True,
            danger=True,
            flows=QUO,
        ),
        A(
            "comment_quote",
            _l("Ask a question about the quote"),
            frozenset({CLIENT}),
            frozenset({S.QUOTE_PROPOSED}),
            S.QUOTE_PROPOSED,
            Party.EXPERT,
            (),
            _comment,
            form=True,
            flows=QUO,
        ),
        A(
            "complete_installation",
            _l("Confirm billing and installation"),
            frozenset({EXPERT}),
            frozenset({S.QUOTE_ACCEPTED}),
            S.COMPLETED,
            Party.NOBODY,
            (),
            _complete,
            flows=QUO,
        ),
        A(
            "hold",
            _l("Put on hold"),
            frozenset({ADMIN}),
            ACTIVE,
            S.ON_HOLD,
            Party.ADMIN,
            (),
            _hold,
            form=True,
            danger=True,
            secondary=True,
        ),
        A(
            "resume",
            _l("Resume"),
            frozenset({ADMIN}),
            frozenset({S.ON_HOLD}),
            None,
            None,
            (),
            _resume,
        ),
        A(
            "cancel",
            _l("Cancel the dossier"),
            frozenset({ADMIN, CLIENT}),
            frozenset(ACTIVE | {S.ON_HOLD}),
            S.CANCELLED,
            Party.NOBODY,
            (_client_before_expert,),
            _cancel,
            form=True,
            danger=True,
            secondary=True,
        ),
        A(
            "archive",
            _l("Archive"),
            frozenset({ADMIN}),
            frozenset({S.COMPLETED, S.CANCELLED}),
            S.ARCHIVED,
            Party.NOBODY,
            secondary=True,
        ),
    )
}

# who is responsible in each status (for `resume`, and a dossier's initial state)
WAITING_AFTER = {
    a.target: a.waiting_on for a in ACTIONS.values() if a.target and a.waiting_on is not None
}


def relations(dossier: Dossier, user: User) -> set[str]:
    found = set()
    if user.is_admin:
        found.add(ADMIN)
    if user.id == dossier.client_id:
        found.add(CLIENT)
    if dossier.expert_id is not None and user.id == dossier.expert_id:
        found.add(EXPERT)
    if dossier.pending_expert_id is not None and user.id == dossier.pending_expert_id:
        found.add(PENDING_EXPERT)
    return found


def refusal(dossier: Dossier, action: Action, actor: User) -> str | None:
    """Why `actor` may not take `action` now, as a sentence (None: they may)."""
    if flow_of(dossier) not in action.flows:
        return _("This step does not exist for this product.")
    if not relations(dossier, actor) & action.who:
        return _("This action is not yours to take on this dossier.")
    if dossier.status not in action.sources:
        return _(
            "This action is not possible while the dossier is “%(status)s”.",
            status=status_label(dossier.status),
        )
    for guard in action.guards:
        reason = guard(dossier, actor)
        if reason:
            return reason
    return None


def available(dossier: Dossier, actor: User) -> list[tuple[Action, str | None]]:
    """The actions this person could take in this status, each with the reason it is blocked
    (None when it is not): the dossier page shows them as the next thing to do."""
    mine = relations(dossier, actor)
    flow = flow_of(dossier)
    found = []
    for action in ACTIONS.values():
        if flow in action.flows and mine & action.who and dossier.status in action.sources:
            reason = None
            for guard in action.guards:
                reason = guard(dossier, actor)
                if reason:
                    break
            found.append((action, reason))
    return found


def _apply(dossier: Dossier, action: Action, actor: User, p: Params) -> int:
    """Change the dossier and write its event; returns the event's id."""
    before = dossier.status
    expert_before = dossier.expert_id if before in EXPERT_LOAD else None
    target = action.apply(dossier, actor, p) if action.apply else None
    dossier.status = target or action.target
    expert_after = dossier.expert_id if dossier.status in EXPERT_LOAD else None
    if expert_before != expert_after:  # an expert took it, or let it go (done, held, cancelled)
        _shift_load(expert_before, -1)
        _shift_load(expert_after, +1)
    dossier.waiting_on = p.out.get("waiting_on") or action.waiting_on or Party.NOBODY
    dossier.waiting_since = utcnow()
    event_id = db.session.execute(
        _NEW_EVENT,
        {
            "dossier_id": dossier.id,
            "actor_id": actor.id,
            "action": action.name,
            "before": before.value,
            "after": dossier.status.value,
            "note": p.out.get("note"),
            "data": p.out.get("data") or {},
            # what the announcement needs, as it was at this moment
            "waiting_on": dossier.waiting_on,
            "expert_id": dossier.expert_id,
            "announced_at": None,  # for the worker (other events are announced as written)
            "created_at": utcnow(),
        },
    ).scalar_one()
    documents._signal(dossier)  # open pages refresh at once, after commit
    return event_id


def transition(
    dossier_id: int,
    action_name: str,
    actor: User,
    version: int | None = None,
    **params,
) -> Dossier:
    """Take `action_name` on a dossier as `actor`.

    :raises NotFound: a dossier the actor may not see (a stranger learns nothing).
    :raises InvalidTransition: not this actor's action, wrong status or a precondition unmet
        (409, with the sentence saying why and what to do).
    :raises Conflict: `version` is not the current one: someone acted first.
    :raises ValidationFailed: a field of the action is missing or wrong (422, per field).
    """
    dossier = db.session.get(Dossier, dossier_id)
    require(dossier is not None and can_view_dossier(actor, dossier))
    action = ACTIONS.get(action_name)
    if action is None:
        raise InvalidTransition(_("This action does not exist."))
    stale = Conflict(_("Someone else updated this dossier meanwhile; here is its current state."))
    if version not in (None, "") and str(version) != str(dossier.version):
        raise stale
    reason = refusal(dossier, action, actor)
    if reason:
        raise InvalidTransition(reason)
    p = Params({name: params[name] for name in action.fields if name in params})
    try:
        event_id = _apply(dossier, action, actor, p)
        db.session.commit()
    except StaleDataError:  # the version changed between our read and our write (any flush)
        db.session.rollback()
        raise stale from None
    except ValidationFailed:  # nothing half-applied survives, nor shows on the page again
        db.session.rollback()
        raise
    # the thread, notifications and emails are a worker's job: the actor does not wait for them
    request_announcement(event_id)
    if p.out.get("after_commit_invoice"):
        request_invoice(dossier.id)
    return dossier


def request_announcement(event_id: int) -> None:

    enqueue("high", "app.tasks.dossiers.announce", event_id, job_id=f"dossier-event-{event_id}")


def announce(event_id: int) -> bool:
    """Tell the parties about a transition: the system message in the dossier's thread, then
    the notifications and emails of B §6.2, as things stood when it happened.

    Run by a worker once the transition has committed, and again by the sweep for any the
    queue lost; idempotent (the event row is locked and marked). Needs a request context for
    the links. Returns False when there was nothing (more) to do.
    """
    event = db.session.get(DossierEvent, event_id, with_for_update=True)
    if event is None or event.announced_at is not None:
        db.session.rollback()
        return False
    dossier = db.session.get(Dossier, event.dossier_id)
    messaging.system_message(dossier, event.action)
    action = ACTIONS.get(event.action)
    if action is not None:
        _notify_parties(dossier, event, action)
    event.announced_at = utcnow()
    db.session.commit()
    return True


def unannounced_events(limit: int = 500) -> list[int]:
    """Transitions still unannounced a minute after they happened: their job was lost."""
    return list(
        db.session.scalars(
            db.select(DossierEvent.id)
            .where(
                DossierEvent.announced_at.is_(None),
                DossierEvent.created_at < utcnow() - timedelta(minutes=1),
            )
            .order_by(DossierEvent.created_at)
            .limit(limit)
        )
    )


def reissue_invoice(dossier_id: int, admin: User) -> None:
    """An admin asks for the invoice again (once a missing rate is fixed).

    :raises NotFound: not an admin's dossier to see.
    :raises InvalidTransition: no refund confirmed yet, so nothing to invoice.
    """
    dossier = db.session.get(Dossier, dossier_id)
    require(dossier is not None and admin.is_admin and can_view_dossier(admin, dossier))
    if dossier.obtained_cents is None:
        raise InvalidTransition(
            _("The refund has not been confirmed yet: there is nothing to invoice.")
        )
    request_invoice(dossier.id)


def request_invoice(dossier_id: int) -> None:
    """The invoice PDF is built by a worker (one job per dossier, so a retry never doubles)."""

    enqueue(
        "default", "app.tasks.invoices.issue_invoice", dossier_id, job_id=f"invoice-{dossier_id}"
    )


# -- notifications (B §6.2): the party who must act next, and the client for outcomes -----------


def _notify(
    user: User | None, dossier: Dossier, type_: str, title, body, priority, threshold=None
) -> None:
    if user is None:
        return
    notifications.create(
        user,
        type_,
        title,
        body=body,
        link=url_for("dossiers.show", dossier_id=dossier.id),
        priority=priority,
        object_ref=f"dossier:{dossier.id}",
        threshold=threshold or f"v{dossier.version}",
    )


def _notify_parties(dossier: Dossier, event: DossierEvent, action: Action) -> None:
    waiting, status = event.waiting_on, S(event.after)
    targets: list[int | None] = []
    if waiting == Party.CLIENT:
        targets.append(dossier.client_id)
    elif waiting == Party.EXPERT:
        targets.append(event.expert_id)
    if status in (S.ADMINISTRATION_DECIDED, S.COMPLETED, S.REFUND_CONFIRMED):
        targets.append(dossier.client_id)
    for user_id in dict.fromkeys(t for t in targets if t is not None and t != event.actor_id):
        user = db.session.get(User, user_id)
        if user is None:
            continue
        with_status = _l(
            "Dossier %(product)s: %(status)s",
            product=dossier.product.name,
            status=status_label(status),
        )
        _notify(
            user,
            dossier,
            f"dossier_{action.name}",
            with_status,
            _l("Open the dossier to see what comes next."),
            Priority.HIGH if waiting in (Party.CLIENT, Party.EXPERT) else Priority.MEDIUM,
            threshold=f"e{event.id}",
        )
        emails.queue_notification_email(
            user,
            f"dossier_{action.name}",
            "dossier_event",
            product=dossier.product.name,
            status=status.value,
            yours=waiting == (Party.CLIENT if user.id == dossier.client_id else Party.EXPERT),
            link=emails.external_url("dossiers.show", dossier_id=dossier.id),
        )
    if waiting == Party.ADMIN and action.name != "hold":
        notifications.notify_admins(
            f"dossier_{action.name}",
            _l("A dossier needs an administrator: %(product)s", product=dossier.product.name),
            link=url_for("dossiers.show", dossier_id=dossier.id),
            priority=Priority.HIGH,
            object_ref=f"dossier:{dossier.id}:e{event.id}",
        )


def status_label(status) -> str:
    return i18n_status_label(status)


def expire_acceptances(limit: int = 500) -> int:
    """The 48 hours are up: the dossier goes back to the client, who chooses again (both
    parties told). Run by the cron sweep; a dossier answered meanwhile is left alone."""
    due = db.session.scalars(
        db.select(Dossier)
        .where(
            Dossier.status == S.EXPERT_PENDING_ACCEPTANCE,
            Dossier.expert_deadline_at < utcnow(),
        )
        .order_by(Dossier.expert_deadline_at)
        .limit(limit)
    ).all()
    done = 0
    for dossier in due:
        expert = dossier.pending_expert
        dossier.status = S.ADMIN_VALIDATED
        dossier.pending_expert_id = dossier.expert_deadline_at = dossier.expert_selected_at = None
        dossier.waiting_on, dossier.waiting_since = Party.CLIENT, utcnow()
        db.session.add(
            DossierEvent(
                dossier_id=dossier.id,
                action="acceptance_expired",
                before=S.EXPERT_PENDING_ACCEPTANCE.value,
                after=S.ADMIN_VALIDATED.value,
                data={"expert_id": expert.id if expert else None},
            )
        )
        messaging.system_message(dossier, "acceptance_expired")
        _notify(
            dossier.client,
            dossier,
            "expert_acceptance_expired",
            _l("The expert did not answer in time"),
            _l("Choose another expert for your dossier."),
            Priority.HIGH,
        )
        _notify(
            expert,
            dossier,
            "expert_acceptance_expired",
            _l("A dossier you did not answer has gone back to the client"),
            _l("Answer within 48 hours to keep the dossiers you are offered."),
            Priority.MEDIUM,
        )
        try:
            db.session.commit()
            done += 1
        except StaleDataError:  # the expert answered at the last second: their answer stands
            db.session.rollback()
    return done


# timeline entries that are not transitions
EVENT_LABELS = {
    "documents_uploaded": _l("added documents"),
    "document_replaced": _l("replaced a document"),
    "document_validated": _l("validated a document"),
    "document_rejected": _l("refused a document"),
    "acceptance_expired": _l("the expert did not answer within 48 hours"),
}


def event_label(code: str) -> str:
    """What a timeline entry (or a system message in the dossier's thread) says."""
    if code in ACTIONS:
        return str(ACTIONS[code].label)
    return str(EVENT_LABELS.get(code, code))
