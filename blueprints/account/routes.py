from flask import (
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from app.core import storage
from app.core.errors import Conflict, NotAllowed, ValidationFailed
from app.models import SECTORS, Role
from app.security import is_approved_expert, may_run_firm
from app.services import accounts, firms, sla
from app.services.accounts import sessions
from app.services.marketplace import expertise as expertise_service
from app.services.notifications import preferences, push
from app.services.ops import privacy
from app.web import hx
from app.web.forms import apply_errors, json_body
from blueprints.account import bp
from blueprints.account.forms import PROFILE_FORMS, ChangePasswordForm, ErasureForm

PUSH_MAX_BYTES = 16 * 1024  # a browser's PushSubscription is a few hundred bytes


def _profile_form(**kwargs):
    form_class = PROFILE_FORMS[current_user.role.value]
    return form_class(**kwargs)


def _form_data() -> dict:
    data = {
        name: getattr(current_user, name)
        for name in ("first_name", "last_name", "phone", "locale", "timezone")
    }
    profile = current_user.profile
    if profile is not None:
        for column in profile.__table__.columns.keys():
            value = getattr(profile, column)
            data[column] = getattr(value, "value", value)
    return data


@bp.get("/profile")
@login_required
def profile():
    form = _profile_form(data=_form_data())
    return render_template("account/profile.html", form=form, user=current_user)


@bp.post("/profile")
@login_required
def update_profile():
    form = _profile_form()
    if not form.validate_on_submit():
        return render_template("account/profile.html", form=form, user=current_user), 422
    try:
        accounts.update_profile(current_user, **form.to_service_kwargs())
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return render_template("account/profile.html", form=form, user=current_user), 422
    flash(_("Your profile is saved."), "success")
    return redirect(url_for("account.profile"), 303)


@bp.get("/password")
@login_required
def password():
    return _password_page(ChangePasswordForm())


def _password_page(form, status: int = 200):
    open_sessions = sessions.open_count(current_user)
    return render_template("account/password.html", form=form, open_sessions=open_sessions), status


@bp.post("/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _password_page(form, 422)
    try:
        accounts.change_password(current_user, form.current_password.data, form.new_password.data)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return _password_page(form, 422)
    flash(_("Your password is changed. Your other devices are logged out."), "success")
    return redirect(url_for("account.profile"), 303)


@bp.post("/sessions/end")
@login_required
def end_sessions():
    """Log out of every device, this one included."""
    sessions.end_all(current_user)
    logout_user()
    flash(_("You are logged out of all your devices."), "success")
    return redirect(url_for("auth.login"), 303)


@bp.route("/expertise", methods=["GET", "POST"])
@login_required
def expertise():
    """An expert's products, levels, fee, capacity and availability."""
    if current_user.role != Role.EXPERT:
        abort(404)
    if request.method == "GET":
        values = expertise_service.current(current_user)
        return render_template(
            "account/expertise.html",
            values=values,
            errors={},
            products=expertise_service.products(),
        )
    form = request.form
    levels = {}
    for raw in form.getlist("products"):
        if raw.isdigit():
            levels[int(raw)] = form.get(f"level-{raw}", "")
    values = {
        "levels": dict(levels),
        "fee_percent": form.get("fee_percent", ""),
        "capacity": form.get("capacity", ""),
        "available": form.get("available") == "on",
        "department": form.get("department", ""),
        "sectors": form.getlist("sectors"),
        "certifications": form.get("certifications", ""),
    }
    try:
        expertise_service.update(current_user, **values)
    except ValidationFailed as exc:
        return render_template(
            "account/expertise.html",
            values=values,
            errors=exc.fields,
            products=expertise_service.products(),
            sectors=SECTORS,
        ), 422
    flash(_("Your offer is saved."), "success")
    return redirect(url_for("account.expertise"), 303)


def _hours_page(status: int = 200, errors=None, values=None):
    calendar = sla.settings.own_calendar(current_user)
    return render_template(
        "account/hours.html",
        calendar=calendar,
        hours=sla.settings.hours_text(calendar),
        closures=sla.settings.closures_text(calendar),
        errors=errors or {},
        values=values,
    ), status


@bp.get("/hours")
@login_required
def hours():
    """An expert's working hours and leave: their clocks count in them."""
    _expert_only()
    return _hours_page()


@bp.post("/hours")
@login_required
def save_hours():
    _expert_only()
    f = request.form
    form = sla.settings.CalendarForm(
        hours={d: f.get(f"day{d}", "") for d in sla.settings.DAYS},
        region=f.get("region", ""),
        closures=f.get("closures", ""),
        name=None,
    )
    try:
        sla.settings.save_calendar(
            current_user, sla.settings.own_calendar(current_user), form, request.remote_addr
        )
    except ValidationFailed as exc:
        return _hours_page(422, exc.fields, f)
    flash(_("Your hours are saved: your new deadlines count in them."), "success")
    return redirect(url_for("account.hours"), 303)


def _firm_page(status: int = 200, errors: dict | None = None, values=None):
    member = firms.membership(current_user)
    runs = member is not None and may_run_firm(current_user, member)
    return render_template(
        "account/firm.html",
        member=member,
        runs=runs,
        may_create=is_approved_expert(current_user),
        invitations=firms.invitations_for(current_user) if member is None else [],
        sent=firms.sent_invitations(member.firm_id) if runs else [],
        products=firms.products(),
        dossiers=firms.team_dossiers(current_user),
        errors=errors or {},
        values=values or {},
    ), status


def _expert_only() -> None:
    if current_user.role != Role.EXPERT:
        abort(404)


@bp.get("/cabinet")
@login_required
def firm():
    _expert_only()
    return _firm_page()


@bp.post("/cabinet")
@login_required
def firm_create():
    _expert_only()
    try:
        firms.create(current_user, request.form.get("name", ""))
    except ValidationFailed as exc:
        return _firm_page(422, exc.fields, request.form)
    except Conflict as exc:
        flash(exc.message, "warning")
        return _firm_page(409, values=request.form)
    flash(_("Your firm is created: you are its owner."), "success")
    return redirect(url_for("account.firm"), 303)


@bp.post("/cabinet/members")
@login_required
def firm_add_member():
    """Invite an expert: they join only once they accept from their own account."""
    try:
        firms.invite(current_user, request.form.get("email", ""), request.form.get("role", ""))
    except NotAllowed:
        abort(404)
    except ValidationFailed as exc:
        return _firm_page(422, exc.fields, request.form)
    flash(_("The invitation is sent: the expert joins once they accept it."), "success")
    return redirect(url_for("account.firm"), 303)


def _firm_step(step, done: str):
    """Run one firm step for the current user: 303 back to the firm page when it is done,
    the page again with the reason (409) when it cannot be, 404 when it is not theirs."""
    try:
        step()
    except NotAllowed:
        abort(404)
    except Conflict as exc:
        flash(exc.message, "warning")
        return _firm_page(409)
    flash(done, "success")
    return redirect(url_for("account.firm"), 303)


@bp.post("/cabinet/invitations/<int:invitation_id>/accept")
@login_required
def firm_accept(invitation_id: int):
    _expert_only()
    return _firm_step(
        lambda: firms.accept(current_user, invitation_id), _("You have joined the firm.")
    )


@bp.post("/cabinet/invitations/<int:invitation_id>/refuse")
@login_required
def firm_refuse(invitation_id: int):
    _expert_only()
    return _firm_step(
        lambda: firms.refuse(current_user, invitation_id),
        _("You have declined the invitation."),
    )


@bp.post("/cabinet/invitations/<int:invitation_id>/revoke")
@login_required
def firm_revoke(invitation_id: int):
    return _firm_step(
        lambda: firms.revoke(current_user, invitation_id), _("The invitation is withdrawn.")
    )


@bp.post("/cabinet/leave")
@login_required
def firm_leave():
    return _firm_step(
        lambda: firms.leave(current_user),
        _("You have left the firm: it no longer sees your dossiers."),
    )


@bp.post("/cabinet/members/<int:member_id>/remove")
@login_required
def firm_remove_member(member_id: int):
    return _firm_step(
        lambda: firms.remove_member(current_user, member_id),
        _("The member has left the firm."),
    )


@bp.post("/cabinet/fees")
@login_required
def firm_fees():
    raw = {p.id: request.form.get(f"min-{p.id}", "") for p in firms.products()}
    try:
        firms.set_min_fees(current_user, raw)
    except NotAllowed:
        abort(404)
    except ValidationFailed as exc:
        return _firm_page(422, exc.fields, request.form)
    flash(_("The minimum fees are saved."), "success")
    return redirect(url_for("account.firm"), 303)


def _preferences_page(user, status=200, errors=None, values=None):
    context = preferences.page(user, values)
    return render_template(
        "account/notifications.html", **context, errors=errors or {}, read_only=False
    ), status


@bp.get("/notifications")
@login_required
def notification_preferences():
    return _preferences_page(current_user)


@bp.post("/notifications")
@login_required
def save_notification_preferences():
    enabled = {
        tuple(key.split(":", 1)) for key in request.form.getlist("on") if key.count(":") == 1
    }
    values = {
        "matrix": {
            (f, c): (f, c) in enabled for f in preferences.FAMILIES for c in preferences.channels()
        },
        "quiet_from": request.form.get("quiet_from", ""),
        "quiet_to": request.form.get("quiet_to", ""),
        "digest": request.form.get("digest") == "on",
    }
    try:
        preferences.update(
            current_user, enabled, values["quiet_from"], values["quiet_to"], values["digest"]
        )
    except ValidationFailed as exc:
        return _preferences_page(current_user, 422, exc.fields, values)
    flash(_("Your notification settings are saved."), "success")
    return redirect(url_for("account.notification_preferences"), 303)


@bp.post("/push/subscribe")
@login_required
def push_subscribe():
    """The browser's PushSubscription (JSON), sent by app.js after the user allowed it."""
    if not push.enabled():
        abort(404)
    try:
        push.subscribe(current_user, json_body(PUSH_MAX_BYTES) or {})
    except ValidationFailed as exc:
        return jsonify(errors=exc.fields), 422
    return jsonify(ok=True)


@bp.post("/push/unsubscribe")
@login_required
def push_unsubscribe():
    body = json_body(PUSH_MAX_BYTES)
    push.unsubscribe(
        current_user, str((body if isinstance(body, dict) else {}).get("endpoint", ""))
    )
    return jsonify(ok=True)


# -- my data (RGPD) ------------------------------------------------------------------------------


def _privacy_page(form: ErasureForm | None = None, status: int = 200):
    ctx = {
        "exports": privacy.exports_of(current_user),
        "erasure": privacy.pending_erasure(current_user),
        "form": form or ErasureForm(),
    }
    if hx.wants_fragment(target="my-exports"):
        return render_template("account/_exports.html", **ctx)
    return render_template("account/privacy.html", **ctx), status


@bp.get("/privacy")
@login_required
def privacy_page():
    return _privacy_page()


@bp.post("/privacy/export")
@login_required
def request_export():
    privacy.request_export(current_user, request.remote_addr)
    flash(_("Your file is being prepared; this page shows it as soon as it is ready."), "success")
    return redirect(url_for("account.privacy_page"), 303)


@bp.get("/privacy/exports/<int:export_id>.zip")
@login_required
def download_export(export_id):
    export = privacy.get_export(current_user, export_id)
    return (
        storage.read(export.storage_key),
        200,
        {
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="mes-donnees-{export.id}.zip"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@bp.post("/privacy/erasure")
@login_required
def request_erasure():
    form = ErasureForm()
    if not form.validate_on_submit():
        return _privacy_page(form, 422)
    try:
        privacy.request_erasure(
            current_user, form.password.data, form.reason.data, request.remote_addr
        )
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return _privacy_page(form, 422)
    flash(_("Your request is sent. An administrator confirms it; you will be told."), "success")
    return redirect(url_for("account.privacy_page"), 303)


@bp.post("/privacy/erasure/cancel")
@login_required
def cancel_erasure():
    privacy.cancel_erasure(current_user, request.remote_addr)
    flash(_("Your request to delete your account is withdrawn."), "success")
    return redirect(url_for("account.privacy_page"), 303)
