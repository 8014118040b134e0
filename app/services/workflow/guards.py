"""Preconditions of actions: each returns None when satisfied, else the sentence saying why not
and what to do (shown beside the blocked button)."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from app.models import (
    Decision,
    DocumentStep,
    Dossier,
    User,
    utcnow,
)
from app.services.dossiers import documents
from app.services.workflow.experts import distributor_for

Guard = Callable[[Dossier, User], str | None]


def _missing_list(dossier: Dossier, step: DocumentStep) -> str:
    """The required checklist entries of `step` still unanswered, as one readable list."""
    items = documents.missing(documents.checklist(dossier, step))
    return ", ".join(item.label for item in items)


def _any_rejected(dossier: Dossier, step: DocumentStep) -> bool:
    return any(item.rejected for item in documents.checklist(dossier, step))


def eligibility_documents(dossier: Dossier, actor: User) -> str | None:
    missing = _missing_list(dossier, DocumentStep.ELIGIBILITY)
    return _("Add the missing documents first: %(list)s.", list=missing) if missing else None


def no_rejected_eligibility(dossier: Dossier, actor: User) -> str | None:
    if _any_rejected(dossier, DocumentStep.ELIGIBILITY):
        return _("A document is refused: reject the eligibility with a reason instead.")
    return None


def requested_documents(dossier: Dossier, actor: User) -> str | None:
    missing = _missing_list(dossier, DocumentStep.COMPLEMENTARY)
    return _("Add the requested documents first: %(list)s.", list=missing) if missing else None


def complementary_reviewed(dossier: Dossier, actor: User) -> str | None:
    if _any_rejected(dossier, DocumentStep.COMPLEMENTARY):
        return _("A document is refused: send the documents back to the client instead.")
    return None


def some_rejected(dossier: Dossier, actor: User) -> str | None:
    if not _any_rejected(dossier, DocumentStep.COMPLEMENTARY):
        return _("Refuse at least one document, with its reason, before sending them back.")
    return None


def has_proposal(dossier: Dossier, actor: User) -> str | None:
    if dossier.proposed_expert_id is None:
        return _("No expert has been proposed for this dossier.")
    return None


def within_deadline(dossier: Dossier, actor: User) -> str | None:
    if dossier.expert_deadline_at and utcnow() > dossier.expert_deadline_at:
        return _("The 48 hours to accept this dossier have passed; the client chooses again.")
    return None


def decision_refused(dossier: Dossier, actor: User) -> str | None:
    if dossier.decision != Decision.REFUSED:
        return _("Only a dossier refused by the administration is closed this way.")
    return None


def decision_granted(dossier: Dossier, actor: User) -> str | None:
    if dossier.decision not in (Decision.ACCEPTED, Decision.PARTIAL):
        return _("The administration refused this dossier: there is no refund to confirm.")
    return None


def client_before_expert(dossier: Dossier, actor: User) -> str | None:
    if actor.id == dossier.client_id and dossier.expert_id is not None:
        return _("Your expert is working on this dossier: ask an administrator to cancel it.")
    return None


def partner_available(dossier: Dossier, actor: User) -> str | None:
    if distributor_for(dossier) is None:
        return _("No partner takes this product right now. Please try again in a few days.")
    return None
