"""Admin pages of the money (A9): payments and their refunds, transfers reconciled against
invoices, provider events needing a look, and the referrers' monthly payout batch."""

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core import storage
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.models import InvoiceStatus
from app.services.payments import admin as money
from app.services.payments import commissions, fees, refunds
from app.services.payments import stripe_gateway as gateway
from app.web.forms import apply_errors
from app.web.security import admin_required
from blueprints.admin import bp
from blueprints.admin.forms import RefundForm, TransferForm


def _payments_page(transfer_form=None, status=200):
    q = request.args.get("q", "")
    return (
        render_template(
            "admin/payments.html",
            q=q,
            rows=money.payments(q),
            flagged=money.flagged_events(),
            transfer_form=transfer_form or TransferForm(),
        ),
        status,
    )


@bp.get("/payments")
@admin_required
def payments():
    return _payments_page()


@bp.post("/payments/transfer")
@admin_required
def record_transfer():
    form = TransferForm()
    if not form.validate_on_submit():
        return _payments_page(form, 422)
    try:
        invoice, party = money.invoice_for(form.reference.data, form.party.data)
        payment = fees.record_transfer(
            invoice,
            party,
            form.cents(),
            form.bank_reference.data or "",
            current_user,
            request.remote_addr,
        )
    except NotFound:
        form.reference.errors = [_("No invoice has this reference or number.")]
        return _payments_page(form, 422)
    except (ValidationFailed, Conflict) as exc:
        apply_errors(
            form, exc if isinstance(exc, ValidationFailed) else ValidationFailed(exc.message)
        )
        return _payments_page(form, 422)
    flash(
        _(
            "Transfer recorded on %(invoice)s: receipt %(number)s.",
            invoice=invoice.number,
            number=payment.number,
        ),
        "success",
    )
    return redirect(url_for("admin.payments", q=invoice.number), 303)


@bp.post("/invoices/<int:invoice_id>/<party>/<any(void, uncollectible):status>")
@admin_required
def invoice_status(invoice_id: int, party: str, status: str):
    invoice = fees.get_for(invoice_id, current_user)
    try:
        fees.set_status(invoice, party, InvoiceStatus(status), current_user, request.remote_addr)
        flash(_("Invoice %(number)s is updated.", number=invoice.number), "success")
    except (ValidationFailed, Conflict) as exc:
        flash(exc.message, "error")
    return redirect(url_for("admin.payments", q=invoice.number), 303)


def _refund_page(payment, form, status=200):
    return (
        render_template(
            "admin/payment.html", payment=payment, form=form, left=refunds.refundable(payment)
        ),
        status,
    )


@bp.get("/payments/<int:payment_id>")
@admin_required
def payment(payment_id: int):
    return _refund_page(money.payment(payment_id), RefundForm())


@bp.post("/payments/<int:payment_id>/refund")
@admin_required
def refund(payment_id: int):
    found = money.payment(payment_id)
    form = RefundForm()
    if not form.validate_on_submit():
        return _refund_page(found, form, 422)
    try:
        note = refunds.refund(
            found, form.cents(), form.reason.data, current_user, request.remote_addr
        )
    except (ValidationFailed, Conflict) as exc:
        apply_errors(
            form, exc if isinstance(exc, ValidationFailed) else ValidationFailed(exc.message)
        )
        return _refund_page(found, form, 422)
    except gateway.ProviderDown:
        form.form_errors.append(
            _("Stripe is not answering. Nothing was refunded: try again shortly.")
        )
        return _refund_page(found, form, 503)
    except gateway.ProviderRefused as exc:
        form.form_errors.append(_("Stripe refused the refund: %(reason)s", reason=str(exc)))
        return _refund_page(found, form, 422)
    flash(_("Refunded. Credit note %(number)s.", number=note.number), "success")
    return redirect(url_for("admin.payment", payment_id=found.id), 303)


# -- payouts ---------------------------------------------------------------------------------


@bp.get("/payouts")
@admin_required
def payouts():
    due = commissions.payable_totals()
    return render_template(
        "admin/payouts.html",
        due=commissions.due_with_accounts(due),
        batches=commissions.batches(),
    )


@bp.post("/payouts")
@admin_required
def make_payouts():
    try:
        batch = commissions.make_batch(current_user, ip=request.remote_addr)
    except (ValidationFailed, Conflict) as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.payouts"), 303)
    flash(_("Payout batch ready: download the file for the bank, then mark it sent."), "success")
    return redirect(url_for("admin.payouts", _anchor=f"batch-{batch.id}"), 303)


@bp.get("/payouts/<int:batch_id>.xml")
@admin_required
def payout_file(batch_id: int):
    batch = commissions.batch(batch_id)
    return send_file(
        storage.path_of(batch.xml_key),
        mimetype="application/xml",
        as_attachment=True,
        download_name=f"virements-apporteurs-{batch.period}-{batch.id}.xml",
    )


@bp.post("/payouts/<int:batch_id>/sent")
@admin_required
def payout_sent(batch_id: int):
    try:
        commissions.mark_sent(commissions.batch(batch_id), current_user, request.remote_addr)
        flash(_("Marked as sent: each referrer is told."), "success")
    except Conflict as exc:
        flash(exc.message, "error")
    return redirect(url_for("admin.payouts"), 303)
