"""Admin pages of the simulator: the catalogue (products, questions) and its analytics."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.errors import ValidationFailed
from app.core.validators import parse_id
from app.services import catalogue
from app.services.simulator import formulas, simulator_stats
from app.web import hx
from app.web.forms import apply_errors, read_period
from app.web.security import admin_required
from blueprints.admin import bp
from blueprints.admin.forms import ProductForm, QuestionForm


@bp.get("/catalogue")
@admin_required
def catalogue_index():
    return render_template(
        "admin/catalogue.html",
        products=catalogue.products(),
        questions=catalogue.questions(),
    )


def _product_form(product, formdata=None):
    formula = formulas.get(product.formula_code, product.formula_version)
    form = ProductForm.for_product(product, formula.constants, formdata=formdata)
    form.formula_version.choices = [
        (version, f"{code} v{version}")
        for (code, version) in sorted(formulas.FORMULAS)
        if code == product.formula_code
    ]
    return form


def _save(form, save, message: str):
    """POST of an edit form: a 303 to the catalogue once saved, else None (the caller re-renders
    the form with the values typed and the errors, as a 422)."""
    if form.validate():
        try:
            save({name: field.data for name, field in form._fields.items()})
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash(message, "success")
            return redirect(url_for("admin.catalogue_index"), 303)
    return None


@bp.route("/catalogue/products/<int:product_id>", methods=["GET", "POST"])
@admin_required
def product_edit(product_id: int):
    product = catalogue.get_product(product_id)
    form = _product_form(product, formdata=request.form if request.method == "POST" else None)
    if request.method == "POST":
        saved = _save(
            form,
            lambda changes: catalogue.update_product(
                product,
                {**changes, "constants": form.constants()},
                current_user,
                request.remote_addr,
            ),
            _("%(name)s is saved.", name=form.name.data),
        )
        if saved:
            return saved
    formula = formulas.get(product.formula_code, product.formula_version)
    return render_template(
        "admin/product_form.html", product=product, form=form, formula=formula
    ), 422 if request.method == "POST" else 200


@bp.route("/catalogue/questions/<int:question_id>", methods=["GET", "POST"])
@admin_required
def question_edit(question_id: int):
    question = catalogue.get_question(question_id)
    form = QuestionForm(formdata=request.form if request.method == "POST" else None, obj=question)
    if request.method == "POST":
        saved = _save(
            form,
            lambda changes: catalogue.update_question(
                question, changes, current_user, request.remote_addr
            ),
            _("Question %(code)s is saved.", code=question.code),
        )
        if saved:
            return saved
    status = 422 if request.method == "POST" else 200
    return render_template("admin/question_form.html", question=question, form=form), status


# -- simulator analytics -------------------------------------------------------------------------


@bp.get("/simulator")
@admin_required
def simulator_funnel():
    start, end = read_period(request.args)
    return render_template(
        "admin/simulator_funnel.html", f=simulator_stats.funnel(start, end), start=start, end=end
    )


@bp.get("/simulator/simulations")
@admin_required
def simulator_list():
    start, end = read_period(request.args)
    filters = {k: request.args.get(k) or None for k in ("status", "owner", "source")}
    rows, next_before = simulator_stats.simulations_page(
        start=start, end=end, before_id=request.args.get("before", type=parse_id), **filters
    )
    context = {"rows": rows, "next_before": next_before, "start": start, "end": end, **filters}
    if hx.wants_fragment(target="simulation-rows"):
        return render_template("admin/_simulation_rows.html", **context)
    return render_template("admin/simulations.html", **context)
