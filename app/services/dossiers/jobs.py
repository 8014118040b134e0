"""Dossier jobs: the invoice PDF is rendered by a worker, never in the request that confirmed
the refund. Idempotent: a dossier never gets a second invoice."""

from app.core.jobs import public_context
from app.extensions import db
from app.models import Dossier
from app.services.dossiers import invoices, packs


def issue_invoice(dossier_id: int) -> str | None:
    with public_context():
        dossier = db.session.get(Dossier, dossier_id)
        if dossier is None:
            return None
        invoice = invoices.issue_for(dossier)
        return invoice.number if invoice else None


def build_pack(pack_id: int) -> str:
    with public_context():  # its email carries a link
        return packs.build(pack_id)


def fail_stalled_packs() -> int:
    return packs.fail_stalled()
