"""Admin pages of the staff accounts (docs/domain.md A11): sellers, support agents, admins."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.core.errors import ValidationFailed
from app.services.accounts import staff as staff_service
from app.web.forms import apply_errors
from app.web.security import admin_required
from blueprints.admin import bp
from blueprints.admin.forms import StaffEditForm, StaffForm


def _listing(form, status=200):
    rows = staff_service.listing(current_user)
    return render_template("admin/staff.html", rows=rows, form=form), status


@bp.get("/staff")
@admin_required
def staff():
    return _listing(StaffForm(formdata=None))


@bp.post("/staff")
@admin_required
def create_staff():
    form = StaffForm()
    if form.validate():
        try:
            user = staff_service.create(
                current_user,
                email=form.email.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                role=form.role.data,
                locale=str(get_locale()),
                ip=request.remote_addr,
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash(
                _(
                    "%(name)s's account is open: they received a link to choose their password.",
                    name=user.full_name,
                ),
                "success",
            )
            return redirect(url_for("admin.staff"), 303)
    return _listing(form, 422)


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@admin_required
def staff_member(user_id: int):
    member = staff_service.get(current_user, user_id)
    posted = request.method == "POST"
    form = StaffEditForm(
        formdata=request.form if posted else None,
        data={"role": member.role.value, "active": member.active},
    )
    if posted and form.validate():
        try:
            staff_service.update(
                current_user,
                member,
                role=form.role.data,
                active=form.active.data,
                ip=request.remote_addr,
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash(_("%(name)s's account is saved.", name=member.full_name), "success")
            return redirect(url_for("admin.staff"), 303)
    page = render_template("admin/staff_member.html", member=member, form=form)
    return page, 422 if posted else 200


@bp.post("/staff/<int:user_id>/invite")
@admin_required
def staff_invite(user_id: int):
    member = staff_service.get(current_user, user_id)
    staff_service.resend_invitation(current_user, member, request.remote_addr)
    flash(_("A new link was sent to %(email)s.", email=member.email), "success")
    return redirect(url_for("admin.staff_member", user_id=member.id), 303)
