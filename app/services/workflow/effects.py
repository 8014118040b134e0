"""What each action writes on the dossier, beyond its status: the fields it reads from the
person's input and what it decides itself (timeline note and data, who is waited on)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core.errors import ValidationFailed
from app.core.numbers import parse_percent_bp
from app.extensions import db
from app.models import (
    Decision,
    DocumentRequest,
    DocumentRequestItem,
    DocumentStatus,
    DocumentStep,
    Dossier,
    ExpertProfile,
    Party,
    Priority,
    User,
    utcnow,
)
from app.services import plans
from app.services.dossiers import documents
from app.services.workflow.experts import distributor_for, offerable
from app.services.workflow.notify import notify_party
from app.services.workflow.params import Params, takes
from app.services.workflow.progress import S


@takes("note")
def validate_eligibility(d: Dossier, actor: User, p: Params):
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
def give_reason(d: Dossier, actor: User, p: Params):
    p.out["note"] = p.text("reason", _("Give a reason: the other party will read it."))


def ask_expert(d: Dossier, expert: User, actor: User) -> None:
    d.pending_expert_id = expert.id
    d.expert_selected_at = utcnow()
    hours = current_app.config["EXPERT_ACCEPTANCE_HOURS"]
    d.expert_deadline_at = d.expert_selected_at + timedelta(hours=hours)
    d.proposed_expert_id, d.proposal_message = None, None
    notify_party(
        expert,
        d,
        "expert_selected",
        _l("A client chose you for a dossier"),
        _l("You have 48 hours to accept or refuse it."),
        Priority.HIGH,
    )


@takes("expert_id")
def select_expert(d: Dossier, actor: User, p: Params):
    previous = d.pending_expert
    expert = offerable(d, p.get("expert_id"))
    proposed = d.proposed_expert
    if proposed is not None and proposed.id != expert.id:  # domain.md §4: the declined proposal
        notify_party(
            proposed,
            d,
            "expert_proposal_declined",
            _l("The client chose another expert"),
            _l("The dossier we proposed to you went to another expert."),
            Priority.LOW,
        )
    if previous is not None and previous.id != expert.id:
        notify_party(
            previous,
            d,
            "expert_selection_withdrawn",
            _l("A client chose another expert"),
            _l("You no longer need to answer for this dossier."),
            Priority.LOW,
        )
    ask_expert(d, expert, actor)
    p.out["data"] = {"expert_id": expert.id, "expert": expert.full_name}


@takes("expert_id", "message")
def propose_expert(d: Dossier, actor: User, p: Params):
    expert = offerable(d, p.get("expert_id"))
    d.proposed_expert_id = expert.id
    d.proposal_message = p.text("message", "", required=False) or None
    p.out["note"] = d.proposal_message
    p.out["data"] = {"expert_id": expert.id, "expert": expert.full_name}


def accept_proposal(d: Dossier, actor: User, p: Params):
    expert = offerable(d, d.proposed_expert_id)
    ask_expert(d, expert, actor)
    p.out["data"] = {"expert_id": expert.id, "expert": expert.full_name}


@takes("expert_id")
def assign_expert(d: Dossier, actor: User, p: Params):
    expert = offerable(d, p.get("expert_id"))
    take(d, expert)
    p.out["data"] = {"expert_id": expert.id, "expert": expert.full_name}
    notify_party(
        expert,
        d,
        "expert_assigned",
        _l("An administrator assigned you a dossier"),
        _l("Review the client's documents to start."),
        Priority.HIGH,
    )


def take(d: Dossier, expert: User) -> None:
    d.expert_id, d.expert_accepted_at = expert.id, utcnow()
    d.pending_expert_id = d.expert_deadline_at = d.proposed_expert_id = None


def accept(d: Dossier, actor: User, p: Params):
    offerable(d, actor.id)  # still approved, holding the product, with room for one more
    take(d, actor)


@takes("reason")
def refuse(d: Dossier, actor: User, p: Params):
    give_reason(d, actor, p)
    d.pending_expert_id = d.expert_deadline_at = d.expert_selected_at = None


_NEW_REQUEST = db.insert(DocumentRequest.__table__).returning(DocumentRequest.__table__.c.id)


@takes("items", "required", "message")
def request_documents(d: Dossier, actor: User, p: Params):
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


def validate_documents(d: Dossier, actor: User, p: Params):
    for doc in documents.current_documents(d, DocumentStep.COMPLEMENTARY):
        if doc.status == DocumentStatus.PENDING:
            doc.status, doc.reviewed_by_id, doc.reviewed_at = (
                DocumentStatus.VALIDATED,
                actor.id,
                utcnow(),
            )


@takes("final_amount", "report", "fee_percent")
def complete_audit(d: Dossier, actor: User, p: Params):
    d.final_cents = p.cents("final_amount")
    d.audit_report = p.text("report", _("Write the audit report for the client."), 20000)
    fee = str(p.get("fee_percent") or "").strip()
    d.negotiated_fee_bp = None
    if fee:
        # domain.md §6: between the cabinet's minimum for this product and the expert's own fee; a
        # cabinet that set no minimum (or no cabinet) allows no negotiation
        profile = actor.expert_profile
        default_bp = profile.fee_bp if profile else 0
        floor = profile.firm.min_fee_bp(d.product_id) if profile and profile.firm else None
        if floor is None:
            error = _("Your firm has not set a minimum fee for this product: the fee is fixed.")
            raise ValidationFailed(error, fee_percent=error)
        try:
            bp = parse_percent_bp(fee)
        except ValueError:
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


def configured_rate(name: str) -> int | None:
    raw = str(current_app.config.get(name) or "").strip()
    return int(raw) if raw.isdigit() else None


def validate_audit(d: Dossier, actor: User, p: Params):
    """A5: the rates are frozen now, from the expert's fee (or the one negotiated), never above
    the rate of the client's plan (A9: a plan bought before this validation lowers the fee)."""
    expert_fee = d.expert.expert_profile.fee_bp if d.expert and d.expert.expert_profile else None
    agreed = d.negotiated_fee_bp or expert_fee
    plan_rate = plans.success_fee_bp(d.client_id, utcnow())
    rates = [r for r in (agreed, plan_rate) if r]
    d.client_fee_bp = min(rates) if rates else configured_rate("FEE_CLIENT_DEFAULT_BP")
    d.platform_fee_bp = configured_rate("FEE_PLATFORM_BP")
    d.referrer_share_bp = configured_rate("FEE_REFERRER_SHARE_BP")
    d.audit_validated_at = utcnow()
    p.out["data"] = {
        "client_fee_bp": d.client_fee_bp,
        "platform_fee_bp": d.platform_fee_bp,
        "referrer_share_bp": d.referrer_share_bp,
    }


@takes("submitted_on", "reference", "administration")
def submit(d: Dossier, actor: User, p: Params):
    day = p.day("submitted_on")
    d.submission_reference = p.text("reference", _("Give the acknowledgement reference."), 80)
    d.administration = p.text("administration", _("Name the administration (DGDDI, URSSAF…)."), 80)
    d.submitted_at = utcnow().replace(year=day.year, month=day.month, day=day.day)
    p.out["data"] = {"reference": d.submission_reference, "administration": d.administration}


@takes("decision", "amount", "note")
def record_decision(d: Dossier, actor: User, p: Params):
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
def confirm_refund(d: Dossier, actor: User, p: Params):
    d.obtained_cents = p.cents("amount")
    d.refund_reference = p.text("reference", "", 80, required=False) or None
    day = p.day("refunded_on")
    d.refunded_at = utcnow().replace(year=day.year, month=day.month, day=day.day)
    p.out["data"] = {"amount_cents": d.obtained_cents}
    p.out["after_commit_invoice"] = True


def complete(d: Dossier, actor: User, p: Params):
    d.completed_at = utcnow()
    if d.expert is not None and d.expert.expert_profile is not None:
        # the marketplace ranks on it; an UPDATE … + 1 so two completions never lose one
        db.session.execute(
            db.update(ExpertProfile)
            .where(ExpertProfile.id == d.expert.expert_profile.id)
            .values(completed_count=ExpertProfile.completed_count + 1)
        )


@takes("reason")
def hold(d: Dossier, actor: User, p: Params):
    give_reason(d, actor, p)
    d.held_status = d.status


def resume(d: Dossier, actor: User, p: Params):
    target, d.held_status = d.held_status, None
    return target  # whoever is responsible there is waited on again (the engine)


@takes("reason")
def cancel(d: Dossier, actor: User, p: Params):
    give_reason(d, actor, p)
    d.pending_expert_id = d.expert_deadline_at = None
    if d.status != S.ON_HOLD:  # (a held dossier already keeps where it stopped)
        d.held_status = d.status  # where it stopped: its progress stays what it was


# domain.md §4 step 2: what each partner needs to know, pre-filled from the simulation's answers
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


@takes(*QUOTE_FIELDS)
def request_quote(d: Dossier, actor: User, p: Params):
    answers = {}
    for name, _label, _value in quote_questions(d):
        answers[name] = p.whole(name)
    d.quote_answers = answers
    partner = distributor_for(d)
    d.expert_id, d.expert_accepted_at = partner.id, utcnow()
    p.out["data"] = {"answers": answers, "partner": partner.full_name}
    notify_party(
        partner,
        d,
        "quote_request",
        _l("A client asks you for a quote"),
        _l("Their needs are in the dossier."),
        Priority.HIGH,
    )


@takes("amount", "details")
def propose_quote(d: Dossier, actor: User, p: Params):
    d.quote_cents = p.cents("amount")
    d.quote_text = p.text("details", _("Describe what the quote includes."), 5000)
    p.out["data"] = {"amount_cents": d.quote_cents}


@takes("comment")
def comment(d: Dossier, actor: User, p: Params):
    p.out["note"] = p.text("comment", _("Write your comment for the partner."))
