"""Referrers' commissions (A5 referrer_share, A9): a ledger line when the platform invoice it
comes from is paid, a negative one when that payment is refunded, and the monthly payout batch
paid by SEPA credit transfer (pain.001, written and schema-checked by `sepaxml`)."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sepaxml import SepaTransfer
from stdnum import iban as iban_number

from app.core import audit, storage
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import euros
from app.models import (
    BatchStatus,
    ClientProfile,
    CommissionLine,
    Invoice,
    InvoiceStatus,
    LineStatus,
    Payout,
    PayoutBatch,
    ReferrerProfile,
    User,
    utcnow,
)
from app.services import notifications
from app.services.notifications import emails

PAYOUT_MINIMUM_CENTS = 5000  # A9: a referrer is paid once above 50 €


def _referrer_of(invoice: Invoice) -> int | None:
    return db.session.scalar(
        db.select(ClientProfile.referrer_id).where(ClientProfile.user_id == invoice.client_id)
    )


def earn(invoice: Invoice) -> CommissionLine | None:
    """The platform invoice is paid: the referrer's share is now owed to them (once)."""
    referrer_id = _referrer_of(invoice)
    if not invoice.referrer_cents or referrer_id is None:
        return None
    return _line(referrer_id, invoice, f"invoice:{invoice.id}", invoice.referrer_cents)


def reverse(invoice: Invoice, credit_note_id: int, refunded_cents: int) -> CommissionLine | None:
    """A platform-fee payment was refunded: the share of what was given back comes off."""
    referrer_id = _referrer_of(invoice)
    if not invoice.referrer_cents or referrer_id is None or not invoice.total_cents:
        return None
    earned = db.session.scalar(
        db.select(CommissionLine.id).where(CommissionLine.source == f"invoice:{invoice.id}")
    )
    if earned is None:
        return None  # nothing was earned, nothing to take back
    share = (2 * invoice.referrer_cents * refunded_cents + invoice.total_cents) // (
        2 * invoice.total_cents
    )
    return _line(referrer_id, invoice, f"credit:{credit_note_id}", -share)


def _line(referrer_id: int, invoice: Invoice, source: str, cents: int) -> CommissionLine | None:
    if db.session.scalar(db.select(CommissionLine.id).where(CommissionLine.source == source)):
        return None
    line = CommissionLine(
        referrer_id=referrer_id, invoice_id=invoice.id, source=source, amount_cents=cents
    )
    db.session.add(line)
    return line


def balances(referrer_id: int) -> dict[str, int]:
    """Pending (on platform invoices not paid yet), payable (earned, not paid out) and paid."""
    pending = db.session.scalar(
        db.select(db.func.coalesce(db.func.sum(Invoice.referrer_cents), 0))
        .join(ClientProfile, ClientProfile.user_id == Invoice.client_id)
        .where(
            ClientProfile.referrer_id == referrer_id,
            Invoice.platform_status == InvoiceStatus.OPEN,
        )
    )
    by_status = dict(
        db.session.execute(
            db.select(CommissionLine.status, db.func.sum(CommissionLine.amount_cents))
            .where(CommissionLine.referrer_id == referrer_id)
            .group_by(CommissionLine.status)
        ).all()
    )
    return {
        "pending": int(pending or 0),
        "payable": int(by_status.get(LineStatus.PAYABLE, 0) or 0),
        "paid": int(by_status.get(LineStatus.PAID, 0) or 0),
    }


def lines_of(referrer_id: int, limit: int = 50) -> list[CommissionLine]:
    return db.session.scalars(
        db.select(CommissionLine)
        .where(CommissionLine.referrer_id == referrer_id)
        .order_by(CommissionLine.id.desc())
        .limit(limit)
    ).all()


def set_bank_account(referrer: User, iban: str, holder: str, ip: str | None = None) -> None:
    """Where a referrer's commissions go; the IBAN's check digits are verified first."""
    profile = referrer.referrer_profile
    if profile is None:
        raise NotFound()
    compact = iban_number.compact(iban or "")
    errors = {}
    if not compact or not iban_number.is_valid(compact):
        errors["iban"] = _("This IBAN is not valid: check the letters and digits (FR76 …).")
    if not (holder or "").strip():
        errors["holder"] = _("Enter the account holder's name.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), **errors)
    profile.iban, profile.iban_holder = compact, holder.strip()[:70]
    audit.record(referrer, "referrer.iban", "user", referrer.id, ip)
    db.session.commit()


# -- payouts ---------------------------------------------------------------------------------


def payable_totals() -> list[tuple[int, int]]:
    """(referrer id, payable cents) for everyone at or above the minimum."""
    total = db.func.sum(CommissionLine.amount_cents)
    return db.session.execute(
        db.select(CommissionLine.referrer_id, total)
        .where(CommissionLine.status == LineStatus.PAYABLE, CommissionLine.payout_id.is_(None))
        .group_by(CommissionLine.referrer_id)
        .having(total >= PAYOUT_MINIMUM_CENTS)
        .order_by(CommissionLine.referrer_id)
    ).all()


def due_with_accounts(due: list[tuple[int, int]]) -> list[dict]:
    """The admin page's rows: who is due what, and whether they have a valid IBAN yet."""
    ids = [referrer_id for referrer_id, _cents in due]
    users = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(ids)))}
    rows = []
    for referrer_id, cents in due:
        user = users[referrer_id]
        profile = user.referrer_profile
        rows.append(
            {
                "user": user,
                "cents": int(cents),
                "has_iban": bool(profile and profile.iban and iban_number.is_valid(profile.iban)),
            }
        )
    return rows


def make_batch(actor: User, on: date | None = None, ip: str | None = None) -> PayoutBatch:
    """The month's payout batch: one credit transfer per referrer above 50 € with a valid
    IBAN, its lines tied to it, and the pain.001 file written once and kept."""
    on = on or utcnow().date()
    config = current_app.config
    if not config["PLATFORM_IBAN"]:
        raise ValidationFailed(_("The platform's own IBAN is not configured (PLATFORM_IBAN)."))
    sepa = SepaTransfer(
        {
            "name": "FinancialTracker",
            "IBAN": config["PLATFORM_IBAN"],
            "BIC": config["PLATFORM_BIC"],
            "batch": True,
            "currency": "EUR",
        },
        clean=True,
    )
    batch = PayoutBatch(period=on.strftime("%Y-%m"), message_id=sepa.msg_id, created_by_id=actor.id)
    db.session.add(batch)
    db.session.flush()
    for referrer_id, cents in payable_totals():
        profile = db.session.scalar(
            db.select(ReferrerProfile).where(ReferrerProfile.user_id == referrer_id)
        )
        if profile is None or not profile.iban or not iban_number.is_valid(profile.iban):
            continue  # told on the admin page: they have to enter an IBAN first
        payout = Payout(
            batch_id=batch.id,
            referrer_id=referrer_id,
            amount_cents=int(cents),
            iban=profile.iban,
            holder=profile.iban_holder or profile.company_name or "",
        )
        db.session.add(payout)
        db.session.flush()
        db.session.execute(
            db.update(CommissionLine)
            .where(
                CommissionLine.referrer_id == referrer_id,
                CommissionLine.status == LineStatus.PAYABLE,
                CommissionLine.payout_id.is_(None),
            )
            .values(payout_id=payout.id)
        )
        sepa.add_payment(
            {
                "name": payout.holder or "Referrer",
                "IBAN": payout.iban,
                "amount": payout.amount_cents,
                "execution_date": on,
                "description": f"FinancialTracker commissions {batch.period}",
                "endtoend_id": f"FT-PAYOUT-{payout.id}",
            }
        )
        batch.count += 1
        batch.total_cents += payout.amount_cents
    if not batch.count:
        db.session.rollback()
        raise Conflict(_("Nobody is due a payout: no referrer is above 50 € with an IBAN."))
    batch.xml_key = storage.save("payouts", sepa.export(validate=True), "xml")
    audit.record(actor, "payout.batch", "payout_batch", batch.id, ip, cents=batch.total_cents)
    db.session.commit()
    return batch


def mark_sent(batch: PayoutBatch, actor: User, ip: str | None = None) -> None:
    """The admin uploaded the file to the bank: the lines are paid, each referrer is told."""
    if batch.status != BatchStatus.DRAFT:
        raise Conflict(_("This batch was already marked as sent."))
    claimed = db.session.execute(
        db.update(PayoutBatch)
        .where(PayoutBatch.id == batch.id, PayoutBatch.status == BatchStatus.DRAFT)
        .values(status=BatchStatus.SENT, sent_at=utcnow())
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise Conflict(_("This batch was already marked as sent."))
    payouts = db.session.scalars(db.select(Payout).where(Payout.batch_id == batch.id)).all()
    for payout in payouts:
        db.session.execute(
            db.update(CommissionLine)
            .where(CommissionLine.payout_id == payout.id)
            .values(status=LineStatus.PAID)
        )
        referrer = db.session.get(User, payout.referrer_id)
        notifications.create(
            referrer,
            "payout_processed",
            _l(
                "Your commissions are on their way: %(amount)s",
                amount=euros(payout.amount_cents / 100),
            ),
            object_ref=f"payout:{payout.id}",
        )
        emails.queue_notification_email(
            referrer,
            "payout_processed",
            "payout_processed",
            amount=payout.amount_cents,
            iban_end=payout.iban[-4:],
            period=batch.period,
        )
    audit.record(actor, "payout.sent", "payout_batch", batch.id, ip)
    db.session.commit()


def batch(batch_id: int) -> PayoutBatch:
    found = db.session.get(PayoutBatch, batch_id)
    if found is None:
        raise NotFound()
    return found


def batches(limit: int = 24) -> list[PayoutBatch]:
    return db.session.scalars(
        db.select(PayoutBatch).order_by(PayoutBatch.id.desc()).limit(limit)
    ).all()
