from datetime import timedelta

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.core.errors import ValidationFailed
from app.errors import render_error
from app.extensions import limiter
from app.models import Role, SimulationStatus
from app.services import accounts
from app.services.accounts import login_throttle, referrals, sessions
from app.services.crm import leads
from app.services.simulator import simulations
from app.web import hx
from app.web.forms import apply_errors
from app.web.security import safe_redirect_target
from blueprints.auth import bp
from blueprints.auth.forms import (
    ClientSignupForm,
    ExpertApplicationForm,
    ForgotPasswordForm,
    LoginForm,
    ReferrerApplicationForm,
    ResetPasswordForm,
)


def _limit(config_key: str):
    return limiter.limit(lambda: current_app.config[config_key], methods=["POST"])


def _home() -> str:
    return url_for("main.dashboard")


def _locale() -> str:
    return session.get("locale") or current_app.config["BABEL_DEFAULT_LOCALE"]


# -- login / logout ------------------------------------------------------------------------------


@bp.get("/login")
def login():
    if current_user.is_authenticated:
        return redirect(_home())
    return render_template("auth/login.html", form=LoginForm())


@bp.post("/login")
def authenticate():
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 422
    device = request.cookies.get(login_throttle.DEVICE_COOKIE)
    keys = login_throttle.keys(form.email.data, request.remote_addr, device)
    if wait := login_throttle.wait_seconds(keys):
        # refused without looking at the password: waiting is the only way through
        return _slow_down(form, wait)
    user = accounts.authenticate(form.email.data, form.password.data)
    if user is None:
        if wait := login_throttle.failed(keys):
            return _slow_down(form, wait)
        form.form_errors.append(_("Email or password is incorrect."))
        return render_template("auth/login.html", form=form), 422
    login_throttle.succeeded(keys)
    _start_session(user, remember=form.remember.data)
    flash(_("Welcome, %(name)s.", name=user.first_name), "success")
    response = redirect(safe_redirect_target(request.args.get("next")) or _home(), 303)
    response.set_cookie(
        login_throttle.DEVICE_COOKIE,
        login_throttle.device_token(user.email, device),
        max_age=login_throttle.DEVICE_MAX_AGE,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def _slow_down(form, seconds: int):
    shown = seconds if seconds <= 60 else -(-seconds // 60) * 60  # whole minutes, rounded up
    wait = format_timedelta(timedelta(seconds=shown), threshold=1, add_direction=False)
    form.form_errors.append(
        _(
            "Too many failed attempts. Please wait %(wait)s before trying again, or choose a"
            " new password by email (“Forgot your password?”).",
            wait=wait,
        )
    )
    response = make_response(render_template("auth/login.html", form=form), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


def _start_session(user, remember: bool = False) -> None:
    """A fresh session (no fixation); the language choice and a visitor's simulation carry
    over."""
    locale = session.get("locale")
    simulation = session.get("simulation_token")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(sessions.open(user, request.user_agent.string), remember=remember)
    _claim_simulation(user, simulation)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        sessions.end(current_user)  # the cookie's copies open nothing from now on
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"), 303)


# -- sign-up and applications --------------------------------------------------------------------


@bp.before_app_request
def _remember_referral():
    """A referrer's link (`?ref=AFF123456` on any page) is kept for the visit, so that the
    client who signs up later in the same visit is theirs."""
    if request.method == "GET" and "ref" in request.args:
        if code := referrals.clean_code(request.args["ref"]):
            session["referral_code"] = code


_CLIENT = "auth/register.html"


def _signup(form, template: str, create, **extra):
    """Every valid sign-up answers the same way, whether or not the address already has an
    account (no enumeration): a 303 to "check your inbox". A new account is not logged in
    yet; the emailed link does that. An existing one gets a "someone tried" email instead."""
    if not form.validate_on_submit():
        return render_template(template, form=form, **extra), 422
    try:
        user = create(**form.to_service_kwargs(), locale=_locale())
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return render_template(template, form=form, **extra), 422
    if user is not None and user.role == Role.CLIENT:
        # the visitor who just created this account made the simulation; it is theirs
        simulations.attach_to_user(session.get("simulation_token"), user)
    session["signup"] = {"email": form.email.data.strip(), "application": template != _CLIENT}
    return redirect(url_for("auth.signup_sent"), 303)


def _claim_simulation(user, token: str | None) -> None:
    """A visitor's simulation (and so its dossiers) moves to the client who signs up or in."""
    if token and user.role == Role.CLIENT:
        sim = simulations.attach_to_user(token, user)
        if sim is not None and sim.status == SimulationStatus.COMPLETED:
            flash(_("Your simulation is saved on your account and its dossiers are open."), "info")


@bp.get("/register")
def register():
    referrer = referrals.referrer_by_code(session.get("referral_code"))
    form = ClientSignupForm()
    # a won lead's invitation: the company's account starts with what the seller knows
    if lead := leads.lead_of_invitation(request.args.get("invite")):
        session["lead_invitation"] = request.args["invite"]
        form.process(
            data={
                "email": lead.email,
                "company_name": lead.company,
                "siren": lead.siren or "",
                "phone": lead.phone,
            }
        )
    return render_template("auth/register.html", form=form, referrer=referrer)


@bp.post("/register")
@_limit("RATELIMIT_SIGNUP")
def create_account():
    code = session.get("referral_code")

    def create(**fields):
        user = accounts.register_client(**fields, referral_code=code)
        if user is not None:
            leads.attach_client(session.pop("lead_invitation", None), user)
        return user

    referrer = referrals.referrer_by_code(code)
    return _signup(ClientSignupForm(), "auth/register.html", create, referrer=referrer)


@bp.get("/register/sent")
def signup_sent():
    sent = session.get("signup")
    if not sent:
        return redirect(url_for("auth.register"))
    days = current_app.config["EMAIL_VERIFY_MAX_AGE"] // 86400
    return render_template("auth/signup_sent.html", days=days, **sent)


@bp.get("/apply/expert")
def apply_expert():
    return render_template("auth/apply_expert.html", form=ExpertApplicationForm())


@bp.post("/apply/expert")
@_limit("RATELIMIT_SIGNUP")
def submit_expert_application():
    return _signup(ExpertApplicationForm(), "auth/apply_expert.html", accounts.apply_expert)


@bp.get("/apply/referrer")
def apply_referrer():
    return render_template("auth/apply_referrer.html", form=ReferrerApplicationForm())


@bp.post("/apply/referrer")
@_limit("RATELIMIT_SIGNUP")
def submit_referrer_application():
    return _signup(
        ReferrerApplicationForm(),
        "auth/apply_referrer.html",
        accounts.apply_referrer,
    )


# -- email verification --------------------------------------------------------------------------


@bp.get("/verify/<token>")
def verify_email(token: str):
    try:
        user, first_time = accounts.verify_email(token)
    except ValidationFailed as exc:
        return render_template("auth/verify_failed.html", message=exc.message), 422
    if first_time and not current_user.is_authenticated:
        # the first use of the link proves the mailbox: it opens the new account (once)
        _start_session(user)
    flash(_("Thank you, your email address is confirmed."), "success")
    return redirect(_home() if current_user.is_authenticated else url_for("auth.login"), 303)


@bp.post("/verify/resend")
@login_required
@_limit("RATELIMIT_RESET")
def resend_verification():
    if not current_user.email_verified:
        accounts.resend_verification(current_user)
    flash(
        _("We sent a new confirmation link to %(email)s.", email=current_user.email),
        "info",
    )
    return hx.redirect_to(_home())


# -- password reset ------------------------------------------------------------------------------


@bp.get("/password/forgot")
def forgot_password():
    return render_template("auth/forgot.html", form=ForgotPasswordForm())


@bp.post("/password/forgot")
@_limit("RATELIMIT_RESET")
def send_reset_link():
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form), 422
    accounts.request_password_reset(form.email.data)
    # the same answer whether or not the address has an account
    return render_template("auth/forgot_sent.html", email=form.email.data)


@bp.get("/password/reset/<token>")
def reset_password(token: str):
    try:
        accounts.check_reset_token(token)
    except ValidationFailed as exc:
        return render_template("auth/reset_invalid.html", message=exc.message), 422
    return render_template("auth/reset.html", form=ResetPasswordForm(), token=token)


@bp.post("/password/reset/<token>")
@_limit("RATELIMIT_RESET")
def set_password(token: str):
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/reset.html", form=form, token=token), 422
    try:
        accounts.reset_password(token, form.password.data)
    except ValidationFailed as exc:
        if not exc.fields:  # the link itself is bad: nothing to correct in the form
            return render_template("auth/reset_invalid.html", message=exc.message), 422
        apply_errors(form, exc)
        return render_template("auth/reset.html", form=form, token=token), 422
    logout_user()
    flash(_("Your password is changed. You can log in with it now."), "success")
    return redirect(url_for("auth.login"), 303)


# -- too many attempts: the same form back, with what was typed (never the password) ------------

_FORMS = {
    "auth.create_account": (ClientSignupForm, "auth/register.html"),
    "auth.submit_expert_application": (ExpertApplicationForm, "auth/apply_expert.html"),
    "auth.submit_referrer_application": (
        ReferrerApplicationForm,
        "auth/apply_referrer.html",
    ),
    "auth.send_reset_link": (ForgotPasswordForm, "auth/forgot.html"),
    "auth.set_password": (ResetPasswordForm, "auth/reset.html"),
}


@bp.errorhandler(429)
def too_many_attempts(exc):

    entry = _FORMS.get(request.endpoint)
    if entry is None:
        return render_error(429)
    form_class, template = entry
    form = form_class()  # filled from the request, so nothing typed is lost
    form.form_errors.append(_("Too many attempts. Please wait a few minutes before trying again."))
    return render_template(template, form=form, token=request.view_args.get("token")), 429
