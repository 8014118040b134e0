"""The ways in for a prospect who is not ready to sign up (docs/domain.md A11): the request form
(a custom plan or a call-back, priced live), the contact page, a simulator visitor's "call me",
and a referrer's recommendation. Each becomes a lead."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import limiter
from app.models import LeadSource, Role
from app.services.accounts import referrals
from app.services.crm import leads, requestform
from app.services.plans import pricing
from app.web import formtrack, hx
from app.web.security import role_required
from blueprints.intake import bp
from blueprints.intake.forms import ContactForm, ProspectForm, RequestForm

FORM = "request"  # its name in the form analytics


def _limit():
    # "recompute" (the estimate without JavaScript) saves nothing: only a sending counts
    return limiter.limit(
        lambda: current_app.config["RATELIMIT_REQUEST_FORM"],
        methods=["POST"],
        exempt_when=lambda: request.form.get("action") == "recompute",
    )


def _spec():
    """The version the visitor's page was built on (a form saved meanwhile does not change
    what they answered), else the current one."""
    posted = request.values.get("version", type=int)
    current = requestform.current()
    if posted and posted != current.version_id and posted < 2**31:
        return requestform.version(posted) or current
    return current


def _context(spec, raw, check_required: bool, form=None) -> dict:
    answers, typed, errors = requestform.read_answers(spec, raw, check_required)
    quote, price_errors = requestform.estimate(spec, answers)
    errors = {**errors, **price_errors}
    return {
        "spec": spec,
        "shown": requestform.visible_keys(spec, answers),
        "typed": typed,
        "errors": errors,
        "quote": quote,
        "plan": requestform.pricing_plan(spec.plan_code),
        "form": form,
        "parameters": pricing.PARAMETERS,
    }


@bp.get("/request")
def request_form():
    formtrack.viewed(FORM)
    return render_template(
        "intake/request.html", **_context(_spec(), request.args, False, RequestForm(formdata=None))
    )


@bp.get("/request/questions")
def request_questions():
    """The questions for the answers so far (a condition met shows its field), with the
    estimate: the fragment the form swaps on each change."""
    ctx = _context(_spec(), request.args, False)
    formtrack.started(FORM)  # a choice was made
    if hx.wants_fragment():
        return render_template("intake/_questions.html", **ctx)
    return redirect(url_for("intake.request_form", **request.args), 303)


@bp.get("/request/estimate")
def request_estimate():
    """The live price while a number is typed."""
    ctx = _context(_spec(), request.args, False)
    if hx.wants_fragment():
        return render_template("intake/_estimate.html", **ctx)
    return redirect(url_for("intake.request_form", **request.args), 303)


@bp.post("/request")
@_limit()
def submit_request():
    form = RequestForm()
    spec = _spec()
    recompute = request.form.get("action") == "recompute"
    ctx = _context(spec, request.form, not recompute, form)
    if recompute:
        formtrack.started(FORM)
        return render_template("intake/request.html", **ctx)
    valid = form.validate()
    if valid and form.is_robot():
        return _thanks()  # a robot learns nothing; nothing is stored (nor counted)
    if not valid or ctx["errors"]:
        formtrack.refused(FORM, [*ctx["errors"], *form.errors])
        return render_template("intake/request.html", **ctx), 422
    quote = ctx["quote"]
    params, _price_errors = requestform.params_of(spec, _answers(spec))
    leads.capture(
        LeadSource.REQUEST_FORM,
        form.email.data,
        **form.contact(),
        referrer=referrer_of_visit(),
        submission=leads.Submission(
            form_version_id=spec.version_id,
            answers=_answers(spec),
            params=params,
            plan_code=spec.plan_code,
            estimate_cents=None if quote is None or quote.on_request else quote.net_cents,
        ),
        locale=str(get_locale()),
    )
    formtrack.completed(FORM)
    return _thanks()


def _answers(spec) -> dict:
    return requestform.read_answers(spec, request.form)[0]


def referrer_of_visit():
    """The referrer whose link brought this browser (A10), who keeps the lead."""
    return referrals.referrer_by_code(session.get("referral_code"))


def _thanks():
    session["request_sent"] = True
    return redirect(url_for("intake.request_thanks"), 303)


@bp.get("/request/thanks")
def request_thanks():
    if not session.pop("request_sent", False):
        return redirect(url_for("intake.request_form"))
    return render_template("intake/thanks.html")


@bp.route("/contact", methods=["GET", "POST"])
@_limit()
def contact():
    form = ContactForm()
    if request.method == "POST":
        if form.validate():
            if not form.is_robot():
                leads.capture(
                    LeadSource.CONTACT,
                    form.email.data,
                    **form.contact(),
                    referrer=referrer_of_visit(),
                    locale=str(get_locale()),
                )
            return _thanks()
        return render_template("intake/contact.html", form=form), 422
    return render_template("intake/contact.html", form=form)


@bp.route("/referrer/prospects", methods=["GET", "POST"])
@role_required(Role.REFERRER)
def recommend():
    """A referrer recommends a company: a lead of theirs (A10's attribution follows it)."""
    form = ProspectForm()
    if request.method == "POST":
        if form.validate():
            leads.capture(
                LeadSource.REFERRER,
                form.email.data,
                **form.contact(),
                referrer=current_user,
                locale=str(get_locale()),
                confirm=False,  # the prospect did not write to us: the seller calls first
            )
            flash(_("Thank you: our sales team will contact this company."), "success")
            return redirect(url_for("main.dashboard"), 303)
        return render_template("intake/recommend.html", form=form), 422
    return render_template("intake/recommend.html", form=form)
