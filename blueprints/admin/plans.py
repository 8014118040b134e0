"""Admin pages of the plans (docs/domain.md A9): list, create, edit, archive or delete."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.errors import ValidationFailed
from app.services import plans
from app.web.forms import apply_errors
from app.web.security import admin_required
from blueprints.admin import bp
from blueprints.admin.forms import PlanForm


@bp.get("/plans")
@admin_required
def plans_index():
    return render_template("admin/plans.html", rows=plans.listing())


def _edit(plan=None):
    posted = request.method == "POST"
    form = PlanForm.build(plans.PARAMETERS, plan, formdata=request.form if posted else None)
    if posted and form.validate():
        try:
            if plan is None:
                saved = plans.create(form.values(), current_user, request.remote_addr)
            else:
                saved = plans.update(plan, form.values(), current_user, request.remote_addr)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash(_("%(name)s is saved.", name=saved.name), "success")
            return redirect(url_for("admin.plans_index"), 303)
    page = render_template("admin/plan_form.html", form=form, plan=plan)
    return page, 422 if posted else 200


@bp.route("/plans/new", methods=["GET", "POST"])
@admin_required
def plan_new():
    return _edit()


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@admin_required
def plan_edit(plan_id: int):
    return _edit(plans.get(plan_id))


@bp.post("/plans/<int:plan_id>/archive")
@admin_required
def plan_archive(plan_id: int):
    plan = plans.get(plan_id)
    try:
        done = plans.archive(plan, current_user, request.remote_addr)
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        if done == "archived":
            flash(
                _(
                    "%(name)s is archived: its subscribers keep it, nobody new can choose it.",
                    name=plan.name,
                ),
                "success",
            )
        else:
            flash(
                _("%(name)s is deleted: nobody had ever subscribed to it.", name=plan.name),
                "success",
            )
    return redirect(url_for("admin.plans_index"), 303)


@bp.post("/plans/<int:plan_id>/restore")
@admin_required
def plan_restore(plan_id: int):
    plan = plans.get(plan_id)
    plans.restore(plan, current_user, request.remote_addr)
    flash(_("%(name)s is offered again.", name=plan.name), "success")
    return redirect(url_for("admin.plans_index"), 303)
