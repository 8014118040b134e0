"""Money (docs/domain.md §6): the waterfall in exact decimals and the platform's invoice.

client pays the expert `client_fee` of the amount actually obtained; the expert pays the
platform `platform_fee` of that; the platform passes `referrer_share` of its fee to the
referrer; VAT 20 % on the platform invoice; due in 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.core import storage
from app.core.errors import NotFound
from app.extensions import db
from app.models import Dossier, Priority, User, utcnow
from app.models.invoice import Invoice, InvoiceSequence
from app.security import can_view_invoice, require
from app.services import notifications
from app.services.notifications import emails

VAT_BP = 2000
PAYMENT_DAYS = 30
CENT = Decimal(1)


def _share(cents: int | Decimal, bp: int) -> Decimal:
    return Decimal(cents) * Decimal(bp) / Decimal(10000)


@dataclass(frozen=True)
class Waterfall:
    obtained_cents: int
    client_fee_cents: int
    platform_fee_cents: int
    vat_cents: int
    total_cents: int
    referrer_cents: int

    @property
    def expert_keeps_cents(self) -> int:
        return self.client_fee_cents - self.platform_fee_cents

    @property
    def platform_keeps_cents(self) -> int:
        return self.platform_fee_cents - self.referrer_cents


def waterfall(obtained_cents: int, client_bp: int, platform_bp: int, referrer_bp: int):
    """Each step rounds to the cent (half up) from the previous step's rounded amount, so the
    figures on the invoice add up exactly."""
    client = _share(obtained_cents, client_bp).quantize(CENT, ROUND_HALF_UP)
    platform = _share(client, platform_bp).quantize(CENT, ROUND_HALF_UP)
    vat = _share(platform, VAT_BP).quantize(CENT, ROUND_HALF_UP)
    referrer = _share(platform, referrer_bp).quantize(CENT, ROUND_HALF_UP)
    return Waterfall(
        obtained_cents, int(client), int(platform), int(vat), int(platform + vat), int(referrer)
    )


class MissingRate(Exception):
    pass


def next_number(year: int) -> str:
    """FT-YYYY-NNNNN from a per-year counter row, locked for the transaction (PostgreSQL
    `SELECT … FOR UPDATE`; SQLite serialises writers anyway)."""
    seq = db.session.scalar(
        db.select(InvoiceSequence).where(InvoiceSequence.year == year).with_for_update()
    )
    if seq is None:
        seq = InvoiceSequence(year=year, last=0)
        db.session.add(seq)
    seq.last += 1
    db.session.flush()
    return f"FT-{year}-{seq.last:05d}"


def issue_for(dossier: Dossier) -> Invoice | None:
    """Called once the refund is confirmed. A missing rate never makes a 0 € invoice: admins are
    alerted and the dossier stays as it is, to be invoiced once the rate is fixed."""
    existing = db.session.scalar(db.select(Invoice).where(Invoice.dossier_id == dossier.id))
    if existing is not None:
        return existing
    rates = (dossier.client_fee_bp, dossier.platform_fee_bp, dossier.referrer_share_bp)
    if None in rates or not dossier.obtained_cents or dossier.expert_id is None:
        notifications.notify_admins(
            "invoice_error",
            _l("An invoice could not be issued: a rate or amount is missing"),
            body=_l(
                "Dossier %(id)s: check its fee rates, then issue the invoice again.", id=dossier.id
            ),
            link=url_for("dossiers.show", dossier_id=dossier.id),
            priority=Priority.URGENT,
            object_ref=f"dossier:{dossier.id}",
        )
        db.session.commit()
        return None
    # the referrer share applies only when the client came through a referrer
    referrer_bp = rates[2] if _has_referrer(dossier.client) else 0
    w = waterfall(dossier.obtained_cents, rates[0], rates[1], referrer_bp)
    today = utcnow().date()
    invoice = Invoice(
        number=next_number(today.year),
        dossier_id=dossier.id,
        client_id=dossier.client_id,
        expert_id=dossier.expert_id,
        obtained_cents=w.obtained_cents,
        client_fee_bp=rates[0],
        platform_fee_bp=rates[1],
        referrer_share_bp=referrer_bp,
        client_fee_cents=w.client_fee_cents,
        platform_fee_cents=w.platform_fee_cents,
        vat_cents=w.vat_cents,
        total_cents=w.total_cents,
        referrer_cents=w.referrer_cents,
        issued_on=today,
        due_on=today + timedelta(days=PAYMENT_DAYS),
    )
    db.session.add(invoice)
    db.session.flush()
    invoice.pdf_key = storage.save("invoices", render_pdf(invoice, dossier), "pdf")
    link = url_for("dossiers.invoice_pdf", invoice_id=invoice.id)
    for user in (dossier.client, dossier.expert):
        notifications.create(
            user,
            "invoice_issued",
            _l("Invoice %(number)s issued", number=invoice.number),
            link=link,
            priority=Priority.MEDIUM,
            object_ref=f"invoice:{invoice.id}",
        )
        emails.queue_notification_email(
            user,
            "invoice_issued",
            "invoice_issued",
            number=invoice.number,
            product=dossier.product.name,
            fee=invoice.client_fee_cents / 100,
            total=invoice.total_cents / 100,
            is_expert=user.id == dossier.expert_id,
            link=emails.external_url("dossiers.invoice_pdf", invoice_id=invoice.id),
        )
    db.session.commit()
    return invoice


def _has_referrer(client: User) -> bool:
    # the referral programme (who brought which client) arrives with its own issue
    return bool(getattr(client, "referrer_id", None))


def render_pdf(invoice: Invoice, dossier: Dossier) -> bytes:
    from weasyprint import (
        HTML,
    )  # heavy (about a second): only the processes that render a PDF pay it

    with force_locale("fr"):  # a French invoice, whatever the reader's language
        html = render_template(
            "documents/invoice.html",
            invoice=invoice,
            dossier=dossier,
            expert_keeps=invoice.client_fee_cents - invoice.platform_fee_cents,
        )
    return HTML(string=html, base_url=str(current_app.root_path)).write_pdf()


def get_for(invoice_id: int, viewer: User) -> Invoice:

    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound()
    require(can_view_invoice(viewer, invoice))
    return invoice
