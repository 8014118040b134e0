"""The request form's builder (docs/domain.md A11): fields, options, conditions and order,
without code. Every change is checked (`requestform.problems`) and saved as a new version; the
previous versions stay with the submissions that answered them."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from slugify import slugify

from app.core.errors import NotFound, ValidationFailed
from app.services import plans
from app.services.crm import requestform
from app.services.plans import pricing
from app.web.security import admin_required
from blueprints.admin import bp
from blueprints.admin.forms import RequestFieldForm


def _save(fields: list[dict], plan_code: str | None = None) -> None:
    spec = requestform.current()
    requestform.save(current_user, fields, plan_code or spec.plan_code, request.remote_addr)


@bp.get("/request-form")
@admin_required
def request_form():
    spec = requestform.current()
    return render_template(
        "admin/request_form.html",
        spec=spec,
        kinds=requestform.KINDS,
        plans=plans.offered(),
        parameters=pricing.PARAMETERS,
        versions=requestform.history(),
    )


@bp.post("/request-form/plan")
@admin_required
def request_form_plan():
    spec = requestform.current()
    try:
        _save(list(spec.fields), request.form.get("plan_code", ""))
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        flash(_("The estimate is now priced on this plan."), "success")
    return redirect(url_for("admin.request_form"), 303)


def _options(text: str) -> list[dict]:
    options = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        value, sep, label = line.partition("|")
        if not sep:
            label, value = value, ""
        label = label.strip()
        options.append(
            {"value": value.strip() or slugify(label, separator="_")[:40], "label": label}
        )
    return options


def _field_of(form: RequestFieldForm) -> dict:
    field = {
        "key": (form.key.data or "").strip(),
        "label": (form.label.data or "").strip(),
        "kind": form.kind.data,
        "required": bool(form.required.data),
    }
    if form.help.data:
        field["help"] = form.help.data.strip()
    if field["kind"] in ("choice", "multi"):
        field["options"] = _options(form.options.data)
    if form.show_field.data:
        field["show_if"] = {
            "field": form.show_field.data,
            "value": (form.show_value.data or "").strip(),
        }
    if form.pricing.data:
        field["pricing"] = form.pricing.data
    if field["kind"] == "number":
        field["min"], field["max"] = form.min.data, form.max.data
    return field


def _field_form(spec, field: dict | None, formdata=None) -> RequestFieldForm:
    data = {}
    if field is not None:
        data = {
            **field,
            "options": "\n".join(
                f"{o['value']} | {o['label']}" for o in field.get("options") or []
            ),
            "show_field": (field.get("show_if") or {}).get("field", ""),
            "show_value": (field.get("show_if") or {}).get("value", ""),
            "pricing": field.get("pricing") or "",
        }
    form = RequestFieldForm(formdata=formdata, data=data)
    form.kind.choices = [(k, label) for k, label in requestform.KINDS.items()]
    others = [f for f in spec.fields if field is None or f["key"] != field["key"]]
    form.show_field.choices = [("", _("Always show it"))] + [(f["key"], f["label"]) for f in others]
    form.pricing.choices = [("", _("None"))] + [
        (code, p["label"]) for code, p in pricing.PARAMETERS.items()
    ]
    return form


def _edit_field(key: str | None):
    spec = requestform.current()
    fields = list(spec.fields)
    index = next((i for i, f in enumerate(fields) if f["key"] == key), None)
    if key is not None and index is None:
        raise NotFound()
    current = fields[index] if index is not None else None
    posted = request.method == "POST"
    form = _field_form(spec, current, request.form if posted else None)
    if posted and form.validate():
        field = _field_of(form)
        if index is None:
            fields.append(field)
        else:
            fields[index] = field
        try:
            _save(fields)
        except ValidationFailed as exc:
            # the errors are per field key; this page edits one field
            problem = exc.fields.get(field["key"]) or exc.fields.get(key or "") or exc.message
            form.form_errors.append(problem)
        else:
            flash(_("The form is saved: visitors see it now."), "success")
            return redirect(url_for("admin.request_form"), 303)
    page = render_template("admin/request_field.html", form=form, field=current)
    return page, 422 if posted else 200


@bp.route("/request-form/fields/new", methods=["GET", "POST"])
@admin_required
def request_field_new():
    return _edit_field(None)


@bp.route("/request-form/fields/<key>", methods=["GET", "POST"])
@admin_required
def request_field(key: str):
    return _edit_field(key)


@bp.post("/request-form/fields/<key>/move")
@admin_required
def request_field_move(key: str):
    fields = list(requestform.current().fields)
    index = next((i for i, f in enumerate(fields) if f["key"] == key), None)
    if index is None:
        raise NotFound()
    target = index - 1 if request.form.get("direction") == "up" else index + 1
    if 0 <= target < len(fields):
        fields[index], fields[target] = fields[target], fields[index]
        try:
            _save(fields)
        except ValidationFailed as exc:
            flash(exc.message, "error")
    return redirect(url_for("admin.request_form", _anchor=f"field-{key}"), 303)


@bp.post("/request-form/fields/<key>/delete")
@admin_required
def request_field_delete(key: str):
    fields = [f for f in requestform.current().fields if f["key"] != key]
    dependants = [f["label"] for f in fields if (f.get("show_if") or {}).get("field") == key]
    if dependants:
        flash(
            _(
                "Other fields are shown by this one's answer: %(names)s. Change them first.",
                names=", ".join(dependants),
            ),
            "error",
        )
        return redirect(url_for("admin.request_form"), 303)
    try:
        _save(fields)
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        flash(_("The field is removed."), "success")
    return redirect(url_for("admin.request_form"), 303)
