"""What each awaited thing is called, in the reader's language (codes of B §6.4)."""

from functools import cache
from types import SimpleNamespace

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.models import AlertStatus, Level, Party

WHAT = {
    "admin_action_required": _l("eligibility check by the platform"),
    "expert_pending_acceptance": _l("the expert's answer to the assignment"),
    "documents_requested": _l("documents requested from the client"),
    "documents_pending_validation": _l("review of the documents sent"),
    "audit_to_complete": _l("the audit"),
    "validation_final_pending": _l("the client's validation of the audit"),
    "refund_request": _l("submission to the administration"),
    "quote_to_propose": _l("the quote to propose"),
    "quote_to_answer": _l("the client's answer to the quote"),
    "contact_message": _l("a reply to the client's message"),
    "resolution": _l("the dossier as a whole"),
    "invoice_to_pay": _l("payment of the fee invoice"),
}

# the daily reminders' situations (B §6.5)
ACTION = {
    "expert_pending_acceptance": _l("a dossier to accept or refuse"),
    "documents_pending_validation": _l("documents to review"),
    "documents_requested": _l("documents to send"),
    "client_no_response_critical": _l("a client who no longer answers: call them"),
    "audit_to_complete": _l("an audit to complete"),
    "relance_needed": _l("a client to contact"),
    "first_review_needed": _l("an eligibility to check"),
    "validation_final_pending": _l("an audit waiting for the client's validation"),
    "refund_request": _l("a refund request to file"),
}

PARTY = {
    Party.EXPERT: _l("Expert"),
    Party.CLIENT: _l("Client"),
    Party.ADMIN: _l("Platform team"),
}

LEVEL = {
    Level.NONE: _l("On time"),
    Level.WARNED: _l("Due soon"),
    Level.BREACHED: _l("Late"),
    Level.SECOND: _l("Late, escalated"),
    Level.THIRD: _l("Critical"),
}

STATUS = {
    AlertStatus.OPEN: _l("Open"),
    AlertStatus.ACKNOWLEDGED: _l("Acknowledged"),
    AlertStatus.RESOLVED: _l("Resolved"),
}


def what(code: str) -> str:
    return str(WHAT.get(code, code))


def resolved() -> SimpleNamespace:
    """The tables above as plain strings in the reader's language, built once per language and
    process: a list of fifty alerts reads four labels a row, and each lazy string asks Babel
    for its catalogue again (about 40 µs each: 8 ms a page)."""
    return _resolved(str(get_locale()))


@cache
def _resolved(locale: str) -> SimpleNamespace:
    def plain(table: dict) -> dict:
        return {key: str(value) for key, value in table.items()}

    return SimpleNamespace(
        WHAT=plain(WHAT),
        ACTION=plain(ACTION),
        PARTY=plain(PARTY),
        LEVEL=plain(LEVEL),
        STATUS=plain(STATUS),
        what=lambda code, _w=plain(WHAT): _w.get(code, code),
    )
