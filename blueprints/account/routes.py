from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from app.forms import apply_errors
from app.models import Role
from app.services import accounts
from app.services import expertise as expertise_service
from app.services.errors import ValidationFailed
from blueprints.account import bp
from blueprints.account.forms import PROFILE_FORMS, ChangePasswordForm


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
    return render_template("account/password.html", form=ChangePasswordForm())


@bp.post("/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return render_template("account/password.html", form=form), 422
    try:
        accounts.change_password(current_user, form.current_password.data, form.new_password.data)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return render_template("account/password.html", form=form), 422
    login_user(current_user._get_current_object())  # other sessions end, this one goes on
    flash(_("Your password is changed. Your other devices are logged out."), "success")
    return redirect(url_for("account.profile"), 303)


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
        "levels": {k: v for k, v in levels.items()},
        "fee_percent": form.get("fee_percent", ""),
        "capacity": form.get("capacity", ""),
        "available": form.get("available") == "on",
    }
    try:
        expertise_service.update(
            current_user, levels, values["fee_percent"], values["capacity"], values["available"]
        )
    except ValidationFailed as exc:
        return render_template(
            "account/expertise.html",
            values=values,
            errors=exc.fields,
            products=expertise_service.products(),
        ), 422
    flash(_("Your offer is saved."), "success")
    return redirect(url_for("account.expertise"), 303)
