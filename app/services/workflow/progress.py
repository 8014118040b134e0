"""Where a dossier stands: its statuses grouped (alive, final, counting on an expert's load) and
the step and progress bar each status shows, for the six financial steps and the quote flow."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.models import (
    DocumentStep,
    Dossier,
    DossierStatus,
)
from app.services.dossiers import documents

S = DossierStatus


# statuses in which the dossier is alive (hold and cancel apply)
FINAL = frozenset({S.COMPLETED, S.CANCELLED, S.ARCHIVED})


ACTIVE = frozenset(set(S) - FINAL - {S.ON_HOLD})


# an expert's load: dossiers they accepted and have not finished
EXPERT_LOAD = frozenset(ACTIVE - {S.PENDING_UPLOAD, S.PENDING_ADMIN_VALIDATION, S.ADMIN_VALIDATED})


# docs/domain.md §4: the step (1–6) and progress shown for each status
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


# docs/domain.md §4: the five steps of a partner product
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
