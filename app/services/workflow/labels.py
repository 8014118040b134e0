"""What a status or a timeline entry says, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.i18n import status_label as i18n_status_label
from app.services.workflow.actions import ACTIONS


def status_label(status) -> str:
    return i18n_status_label(status)


# timeline entries that are not transitions
EVENT_LABELS = {
    "documents_uploaded": _l("added documents"),
    "document_replaced": _l("replaced a document"),
    "document_validated": _l("validated a document"),
    "document_rejected": _l("refused a document"),
    "acceptance_expired": _l("the expert did not answer within 48 hours"),
    "fee_paid": _l("paid the expert's fee"),
    "platform_fee_paid": _l("paid the platform fee"),
    "payment_refunded": _l("refunded a payment"),
}


def event_label(code: str) -> str:
    """What a timeline entry (or a system message in the dossier's thread) says."""
    if code in ACTIONS:
        return str(ACTIONS[code].label)
    return str(EVENT_LABELS.get(code, code))
