"""The client's billing page, the plan checkout and the receipts."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.validators import parse_id
from app.extensions import csrf
from app.models import PlanStatus, Role
from app.services import plans
from app.services.notifications import emails
from app.services.payments import billing, cmi, commissions, fees, subscriptions
from app.services.payments import stripe_gateway as gateway
from app.services.plans import pricing
from app.web import hx
from app.web.forms import apply_errors
from app.web.security import role_required
from blueprints.billing import bp
from blueprints.billing.forms import BankAccountForm, CheckoutForm


def _billing_context(before: int | None = None, bank_form=None) -> dict:
    """What the billing page shows the signed-in user (the referrer's bank form as posted,
    after an error)."""
    context = billing.overview(current_user, before)
    context["invoices"] = fees.open_for(current_user)
    if current_user.role == Role.REFERRER:
        profile = current_user.referrer_profile
        context["balances"] = commissions.balances(current_user.id)
        context["lines"] = commissions.lines_of(current_user.id)
        context["bank_form"] = bank_form or BankAccountForm(
            iban=profile.iban, holder=profile.iban_holder
        )
    return context


@bp.get("")
@login_required
def index():
    context = _billing_context(parse_id(request.args.get("before")))
    if hx.wants_fragment(target="billing"):
        resp = render_template("billing/_billing.html", **context)
        # the page stops polling once nothing is waiting for the provider (htmx: 286)
        return resp, 200 if context["pending"] else 286
    return render_template("billing/index.html", **context)


def _offer(code: str):
    plan = plans.by_code(code)
    if (
        plan is None
        or plan.on_request
        or plan.status != PlanStatus.ACTIVE
        or plan.code == plans.FREE_PLAN
    ):
        raise NotFound()
    return plan


def _changing(current) -> bool:
    """A paying client changes plan on their Stripe subscription, with the method on file."""
    return bool(current and current.provider_ref and gateway.configured())


def _checkout_page(plan, form, source, status=200):
    params, errors = pricing.read_params(source)
    cycle = pricing.read_cycle(source.get("cycle"))
    current = subscriptions.live_of(current_user.id)
    context = dict(
        plan=plan,
        form=form,
        params=params,
        errors=errors,
        cycle=cycle.value,
        quote=pricing.quote(plan, params, cycle),
        parameters=pricing.PARAMETERS,
        current=current,
        changing=_changing(current),
        online=gateway.configured(),
        stripe_key=gateway.publishable_key(),
    )
    return render_template("billing/checkout.html", **context), status


@bp.get("/checkout/<code>")
@login_required
@role_required(Role.CLIENT)
def checkout_form(code: str):
    plan = _offer(code)
    form = CheckoutForm(holder=current_user.full_name)
    return _checkout_page(plan, form, request.args)


@bp.post("/checkout/<code>")
@login_required
@role_required(Role.CLIENT)
def checkout(code: str):
    plan = _offer(code)
    form = CheckoutForm()
    params, errors = pricing.read_params(request.form)
    cycle = pricing.read_cycle(request.form.get("cycle"))
    changing = _changing(subscriptions.live_of(current_user.id))
    if not form.validate_on_submit() or errors or (not changing and form.sepa_problems()):
        return _checkout_page(plan, form, request.form, 422)
    try:
        if changing:
            subscriptions.change_plan(current_user, plan, params, cycle, ip=request.remote_addr)
            flash(_("Your plan is changed. Stripe credits what was left of the period."), "success")
            return redirect(url_for("billing.index"), 303)
        subscriptions.checkout(
            current_user,
            plan,
            params,
            cycle,
            method_ref=form.method_ref.data or "",
            iban=form.iban.data or "" if form.method.data == "sepa" else "",
            ip=request.remote_addr,
        )
    except (ValidationFailed, Conflict) as exc:
        apply_errors(
            form, exc if isinstance(exc, ValidationFailed) else ValidationFailed(exc.message)
        )
        return _checkout_page(plan, form, request.form, 422)
    except gateway.ProviderDown:
        form.form_errors.append(
            _("The payment service is not answering. Nothing was charged: try again shortly.")
        )
        return _checkout_page(plan, form, request.form, 503)
    except gateway.ProviderRefused as exc:
        form.form_errors.append(_("The payment was refused: %(reason)s", reason=str(exc)))
        return _checkout_page(plan, form, request.form, 422)
    flash(_("Thank you. Your payment is being confirmed; this page updates by itself."), "success")
    return redirect(url_for("billing.index"), 303)


@bp.post("/card-setup")
@login_required
@role_required(Role.CLIENT, Role.EXPERT)
def card_setup():
    """Stripe.js asks for the secret it confirms a card against (JavaScript only; the CSRF
    token comes in the X-CSRFToken header)."""
    try:
        return {"client_secret": subscriptions.card_setup(current_user)}
    except ValidationFailed as exc:
        return {"error": exc.message}, 422
    except (gateway.ProviderDown, gateway.ProviderRefused):
        return {
            "error": _("The payment service is not answering. Try again in a few minutes.")
        }, 503


def _method_page(form, status=200):
    if subscriptions.live_of(current_user.id) is None:
        raise NotFound()
    page = render_template("billing/method.html", form=form, stripe_key=gateway.publishable_key())
    return page, status


@bp.get("/method")
@login_required
@role_required(Role.CLIENT)
def method_form():
    return _method_page(CheckoutForm(holder=current_user.full_name))


@bp.post("/method")
@login_required
@role_required(Role.CLIENT)
def change_method():
    form = CheckoutForm()
    if form.validate_on_submit() and not form.sepa_problems():
        try:
            subscriptions.change_method(
                current_user,
                method_ref=form.method_ref.data or "",
                iban=form.iban.data or "" if form.method.data == "sepa" else "",
                ip=request.remote_addr,
            )
            flash(_("Your renewals are now charged to this payment method."), "success")
            return redirect(url_for("billing.index"), 303)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except gateway.ProviderDown:
            form.form_errors.append(
                _("The payment service is not answering. Nothing changed: try again later.")
            )
        except gateway.ProviderRefused as exc:
            form.form_errors.append(_("The payment was refused: %(reason)s", reason=str(exc)))
    return _method_page(form, 422)


@bp.post("/cancel")
@login_required
@role_required(Role.CLIENT)
def cancel():
    try:
        sub = subscriptions.cancel(current_user, ip=request.remote_addr)
    except (gateway.ProviderDown, gateway.ProviderRefused):
        flash(_("The payment service is not answering. Nothing changed: try again later."), "error")
        return redirect(url_for("billing.index"), 303)
    flash(
        _(
            "Your plan will stop at the end of the paid period, on %(date)s.",
            date=subscriptions.retry_label(sub.current_period_end),
        ),
        "success",
    )
    return redirect(url_for("billing.index"), 303)


@bp.get("/receipts/<int:payment_id>.pdf")
@login_required
def receipt(payment_id: int):
    payment = billing.payment_for(payment_id, current_user)
    pdf = billing.receipt_pdf(payment)
    return (
        pdf,
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="{payment.number}.pdf"',
        },
    )


# -- fee invoices ----------------------------------------------------------------------------


def _invoice_page(invoice, form, status=200):
    party = fees.party_of(invoice, current_user)
    context = dict(
        invoice=invoice,
        party=party,
        form=form,
        due=invoice.due_from(party),
        invoice_status=fees.status_of(invoice, party),
        reference=fees.reference(invoice, party),
        bank=fees.bank_details(),
        payments=billing.payments_of(invoice, current_user),
        online=gateway.configured(),
        stripe_key=gateway.publishable_key(),
        dirhams=cmi.in_dirhams(invoice.due_from(party)) if cmi.configured() else None,
    )
    return render_template("billing/invoice.html", **context), status


@bp.get("/invoices/<int:invoice_id>")
@login_required
def invoice(invoice_id: int):
    found = fees.get_for(invoice_id, current_user)
    if current_user.is_admin:
        return redirect(url_for("admin.payments", q=found.number), 303)
    return _invoice_page(found, CheckoutForm(holder=current_user.full_name))


@bp.post("/invoices/<int:invoice_id>/pay")
@login_required
def pay_invoice(invoice_id: int):
    found = fees.get_for(invoice_id, current_user)
    fees.party_of(found, current_user)  # an admin reads invoices, only their parties pay them
    form = CheckoutForm()
    if not form.validate_on_submit() or form.sepa_problems():
        return _invoice_page(found, form, 422)
    try:
        _payment, secret = fees.pay_online(
            found,
            current_user,
            method_ref=form.method_ref.data or "",
            iban=form.iban.data or "" if form.method.data == "sepa" else "",
            ip=request.remote_addr,
        )
    except (ValidationFailed, Conflict) as exc:
        apply_errors(
            form, exc if isinstance(exc, ValidationFailed) else ValidationFailed(exc.message)
        )
        return _invoice_page(found, form, 422)
    except gateway.ProviderDown:
        form.form_errors.append(
            _("The payment service is not answering. Nothing was charged: try again shortly.")
        )
        return _invoice_page(found, form, 503)
    except gateway.ProviderRefused as exc:
        form.form_errors.append(_("The payment was refused: %(reason)s", reason=str(exc)))
        return _invoice_page(found, form, 422)
    if secret:
        return render_template(
            "billing/authenticate.html",
            invoice=found,
            client_secret=secret,
            stripe_key=gateway.publishable_key(),
        )
    flash(_("Thank you. Your payment is being confirmed; you will receive a receipt."), "success")
    return redirect(url_for("billing.invoice", invoice_id=found.id), 303)


@bp.post("/bank-account")
@login_required
@role_required(Role.REFERRER)
def bank_account():
    form = BankAccountForm()
    if form.validate_on_submit():
        try:
            commissions.set_bank_account(
                current_user, form.iban.data, form.holder.data, ip=request.remote_addr
            )
            flash(_("Your bank account is saved: your next payout goes there."), "success")
            return redirect(url_for("billing.index"), 303)
        except ValidationFailed as exc:
            apply_errors(form, exc)
    return render_template("billing/index.html", **_billing_context(bank_form=form)), 422


# -- CMI (dirhams) ---------------------------------------------------------------------------


@bp.post("/invoices/<int:invoice_id>/cmi")
@login_required
def pay_cmi(invoice_id: int):
    """The signed form that takes the payer to CMI's page (one button, no JavaScript)."""
    found = fees.get_for(invoice_id, current_user)
    try:
        action, fields = cmi.start(
            found,
            current_user,
            {  # on PUBLIC_URL, the address CMI's servers and the browser can reach
                "ok": emails.external_url("billing.cmi_back", outcome="ok"),
                "fail": emails.external_url("billing.cmi_back", outcome="fail"),
                "callback": emails.external_url("webhooks.cmi"),
                "shop": emails.external_url("billing.invoice", invoice_id=found.id),
            },
        )
    except (ValidationFailed, Conflict) as exc:
        flash(exc.message, "error")
        return redirect(url_for("billing.invoice", invoice_id=found.id), 303)
    return render_template("billing/cmi_redirect.html", action=action, fields=fields, invoice=found)


@bp.route("/cmi/<any(ok, fail):outcome>", methods=["GET", "POST"])
@csrf.exempt  # CMI's page posts the browser back here, signed with the store key
def cmi_back(outcome: str):
    payment = cmi.returned(request.form.to_dict() if request.method == "POST" else {})
    return render_template("billing/cmi_back.html", payment=payment, outcome=outcome)
