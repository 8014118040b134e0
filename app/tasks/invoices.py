"""Invoice jobs: the PDF is rendered by a worker, never in the request that confirmed the
refund. Idempotent: a dossier never gets a second invoice."""

from flask import current_app

from app.extensions import db
from app.models import Dossier
from app.services import invoices


def issue_invoice(dossier_id: int) -> str | None:
    # notifications carry links: build them against the public address
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        dossier = db.session.get(Dossier, dossier_id)
        if dossier is None:
            return None
        invoice = invoices.issue_for(dossier)
        return invoice.number if invoice else None
