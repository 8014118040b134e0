"""The transition table, as data: each `Action` says who may take it (the dossier's client, its
expert, the expert asked to accept it, an admin), from which statuses, to which status, who
is responsible afterwards, which preconditions (guards) must hold and what it writes (effects)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.models import (
    Dossier,
    DossierStatus,
    Party,
    User,
)
from app.services.workflow import effects, guards
from app.services.workflow.guards import Guard
from app.services.workflow.params import Params
from app.services.workflow.progress import ACTIVE, S

# who may act, relative to the dossier
CLIENT, EXPERT, PENDING_EXPERT, ADMIN = "client", "expert", "pending_expert", "admin"


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
    # None: `apply` decides, else whoever is responsible in the status it lands in
    waiting_on: Party | None
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
            (guards.eligibility_documents,),
            flows=FIN,
        ),
        A(
            "validate_eligibility",
            _l("Confirm the eligibility"),
            frozenset({ADMIN}),
            frozenset({S.PENDING_ADMIN_VALIDATION}),
            S.ADMIN_VALIDATED,
            Party.CLIENT,
            (guards.no_rejected_eligibility,),
            effects.validate_eligibility,
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
            effects.give_reason,
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
            effects.select_expert,
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
            effects.propose_expert,
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
            (guards.has_proposal,),
            effects.accept_proposal,
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
            effects.assign_expert,
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
            (guards.within_deadline,),
            effects.accept,
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
            effects.refuse,
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
            effects.request_documents,
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
            (guards.requested_documents,),
            flows=FIN,
        ),
        A(
            "validate_documents",
            _l("Validate the documents"),
            frozenset({EXPERT}),
            frozenset({S.EXPERT_ASSIGNED, S.DOCUMENTS_SENT}),
            S.DOCUMENTS_VALIDATED,
            Party.EXPERT,
            (guards.complementary_reviewed,),
            effects.validate_documents,
            flows=FIN,
        ),
        A(
            "refuse_documents",
            _l("Send the documents back"),
            frozenset({EXPERT}),
            frozenset({S.DOCUMENTS_SENT}),
            S.DOCUMENTS_REFUSED,
            Party.CLIENT,
            (guards.some_rejected,),
            effects.give_reason,
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
            effects.complete_audit,
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
            effects.validate_audit,
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
            effects.give_reason,
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
            effects.submit,
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
            effects.record_decision,
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
            (guards.decision_granted,),
            effects.confirm_refund,
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
            effects.complete,
            flows=FIN,
        ),
        A(
            "close_refused",
            _l("Close the refused dossier"),
            frozenset({EXPERT, ADMIN}),
            frozenset({S.ADMINISTRATION_DECIDED}),
            S.COMPLETED,
            Party.NOBODY,
            (guards.decision_refused,),
            effects.complete,
            flows=FIN,
        ),
        A(
            "request_quote",
            _l("Send my needs to the partner"),
            frozenset({CLIENT}),
            frozenset({S.PENDING_UPLOAD}),
            S.QUOTE_REQUESTED,
            Party.EXPERT,
            (guards.eligibility_documents, guards.partner_available),
            effects.request_quote,
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
            effects.propose_quote,
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
            effects.give_reason,
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
            effects.comment,
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
            effects.complete,
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
            effects.hold,
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
            effects.resume,
        ),
        A(
            "cancel",
            _l("Cancel the dossier"),
            frozenset({ADMIN, CLIENT}),
            frozenset(ACTIVE | {S.ON_HOLD}),
            S.CANCELLED,
            Party.NOBODY,
            (guards.client_before_expert,),
            effects.cancel,
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
