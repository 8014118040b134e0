"""Dossier pages: the workflow (one page per dossier, its actions and documents), the detailed
TICPE estimate, document downloads and invoices."""

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core import storage
from app.core.errors import Conflict, ValidationFailed
from app.core.validators import parse_id
from app.models import DocumentStep, DossierStatus
from app.services import dossiers, sla, workflow
from app.services.dossiers import detailed_estimates, documents, invoices, packs
from app.services.marketplace import reviews
from app.web import hx
from app.web.security import admin_required
from blueprints.dossiers import bp
from blueprints.dossiers.forms import TicpeForm


@bp.get("/")
@login_required
def index():
    status = request.args.get("status") or None
    page = dossiers.list_for(
        current_user, status=status, after_id=request.args.get("after", type=parse_id)
    )
    return render_template("dossiers/index.html", page=page, status=status)


def _render(dossier_id: int, status: int = 200, errors: dict | None = None, action: str = ""):
    view = dossiers.page(dossier_id, current_user)
    ctx = {"v": view, "errors": errors or {}, "failed_action": action, "values": request.form}
    if hx.wants_fragment(target="dossier"):
        return render_template("dossiers/_dossier.html", **ctx), status
    return render_template("dossiers/show.html", **ctx), status


@bp.get("/<int:dossier_id>")
@login_required
def show(dossier_id: int):
    return _render(dossier_id)


@bp.post("/<int:dossier_id>/actions/<action>")
@login_required
def act(dossier_id: int, action: str):
    params = request.form.to_dict()
    params.pop("csrf_token", None)
    version = params.pop("version", None)
    params["items"] = request.form.getlist("items")
    params["required"] = request.form.getlist("required")
    try:
        workflow.transition(dossier_id, action, current_user, version=version, **params)
    except Conflict as exc:  # InvalidTransition included: the page shows the current state
        flash(exc.message, "warning")
        return _render(dossier_id, 409)
    except ValidationFailed as exc:
        return _render(dossier_id, 422, errors=exc.fields, action=action)
    flash(_("Done: the dossier has been updated."), "success")
    return hx.redirect_to(url_for("dossiers.show", dossier_id=dossier_id))


@bp.post("/<int:dossier_id>/remind")
@login_required
def remind(dossier_id: int):
    """ "Send a reminder now" about what the client owes (expert or admin)."""
    dossier = dossiers.get(dossier_id, current_user)
    try:
        sla.reminders.remind_now(current_user, dossier)
    except Conflict as exc:
        flash(exc.message, "warning")
        return _render(dossier_id, 409)
    flash(_("The client has been reminded."), "success")
    return hx.redirect_to(url_for("dossiers.show", dossier_id=dossier_id))


@bp.post("/<int:dossier_id>/documents")
@login_required
def upload(dossier_id: int):
    dossiers.get(dossier_id, current_user)  # a stranger's dossier is a 404 whatever was sent
    try:
        step = DocumentStep(request.form.get("step", ""))
    except ValueError:
        abort(400)
    try:
        result = documents.upload(
            dossier_id,
            current_user,
            step,
            request.form.get("label", ""),
            request.files.getlist("files"),
            request_item_id=request.form.get("request_item_id", type=parse_id),
            replaces_id=request.form.get("replaces", type=parse_id),
        )
    except Conflict as exc:
        flash(exc.message, "warning")
        return _render(dossier_id, 409)
    except ValidationFailed as exc:
        return _render(dossier_id, 422, errors=exc.fields, action=f"upload:{step.value}")
    for name, why in result.refused.items():
        flash(_("%(name)s was not added: %(why)s", name=name, why=why), "error")
    if result.saved:
        flash(_("%(n)d file(s) added.", n=len(result.saved)), "success")
    if result.refused and not result.saved:
        errors = {"files": " ".join(result.refused.values())}
        return _render(dossier_id, 422, errors=errors, action=f"upload:{step.value}")
    return hx.redirect_to(url_for("dossiers.show", dossier_id=dossier_id) + "#documents")


@bp.post("/documents/<int:document_id>/review")
@login_required
def review(document_id: int):
    doc = documents.get_for(document_id, current_user)
    dossier_id = doc.dossier_id or parse_id(request.form.get("dossier_id")) or 0
    try:
        documents.review(
            document_id,
            current_user,
            approve=request.form.get("decision") == "validate",
            reason=request.form.get("reason", ""),
        )
    except Conflict as exc:
        flash(exc.message, "warning")
        return _render(dossier_id, 409)
    except ValidationFailed as exc:
        return _render(dossier_id, 422, errors=exc.fields, action=f"review:{document_id}")
    return hx.redirect_to(url_for("dossiers.show", dossier_id=dossier_id) + "#documents")


@bp.post("/<int:dossier_id>/invoice")
@admin_required
def issue_invoice(dossier_id: int):
    """After an admin fixed a missing rate: build the invoice again (a worker does it)."""
    try:
        workflow.reissue_invoice(dossier_id, current_user)
    except Conflict as exc:
        flash(exc.message, "warning")
        return _render(dossier_id, 409)
    flash(_("The invoice is being prepared; it appears here in a few seconds."), "success")
    return hx.redirect_to(url_for("dossiers.show", dossier_id=dossier_id))


@bp.post("/<int:dossier_id>/review")
@login_required
def review_expert(dossier_id: int):
    try:
        reviews.create(
            dossier_id, current_user, request.form.get("rating"), request.form.get("text", "")
        )
    except Conflict as exc:
        flash(exc.message, "warning")
        return _render(dossier_id, 409)
    except ValidationFailed as exc:
        return _render(dossier_id, 422, errors=exc.fields, action="review")
    flash(_("Thank you: your review is published."), "success")
    return hx.redirect_to(url_for("dossiers.show", dossier_id=dossier_id))


@bp.get("/documents/<int:document_id>")
@login_required
def download(document_id: int):
    doc = documents.open_document(document_id, current_user)
    return send_file(
        storage.path_of(doc.storage_key),
        mimetype=doc.content_type,
        as_attachment=request.args.get("inline") is None,
        download_name=documents.download_name(doc.original_name, doc.content_type),
        max_age=0,
    )


@bp.get("/invoices/<int:invoice_id>.pdf")
@login_required
def invoice_pdf(invoice_id: int):
    invoice = invoices.get_for(invoice_id, current_user)
    return send_file(
        storage.path_of(invoice.pdf_key),
        mimetype="application/pdf",
        download_name=f"{invoice.number}.pdf",
        as_attachment=True,
        max_age=0,
    )


@bp.post("/<int:dossier_id>/pack")
@login_required
def request_pack(dossier_id: int):
    pack, _created = packs.request_pack(current_user, dossier_id)
    return redirect(url_for("dossiers.pack", pack_id=pack.id), 303)


@bp.get("/packs/<int:pack_id>")
@login_required
def pack(pack_id: int):
    item = packs.get(current_user, pack_id)
    if hx.wants_fragment(target=f"pack-{pack_id}"):
        # 286 stops htmx's polling once the pack is finished
        return render_template("dossiers/_pack.html", pack=item), 286 if item.finished else 200
    return render_template("dossiers/pack.html", pack=item)


@bp.get("/packs/<int:pack_id>.<fmt>")
@login_required
def pack_file(pack_id: int, fmt: str):
    item, key = packs.file_of(current_user, pack_id, fmt)
    return send_file(
        storage.path_of(key),
        mimetype=packs.MIME[fmt],
        download_name=packs.filename(item, fmt),
        as_attachment=True,
        max_age=0,
    )


@bp.route("/<int:dossier_id>/ticpe", methods=["GET", "POST"])
@login_required
def ticpe_estimate(dossier_id: int):
    dossier = detailed_estimates.get_ticpe_dossier(dossier_id, current_user)
    if request.method == "POST":
        form = TicpeForm()
        if form.validate():
            detailed_estimates.run(dossier, form.inputs(), current_user)
            # post/redirect/get: the page shows the latest run with the answers it was given
            return hx.redirect_to(url_for("dossiers.ticpe_estimate", dossier_id=dossier.id))
        return render_template("dossiers/ticpe.html", dossier=dossier, form=form, run=None), 422
    form = TicpeForm(formdata=None, data=detailed_estimates.prefill(dossier))
    run = detailed_estimates.latest(dossier)
    return render_template("dossiers/ticpe.html", dossier=dossier, form=form, run=run)


@bp.context_processor
def _workflow_words():
    return {
        "steps_for": workflow.steps_for,
        "quote_questions": workflow.quote_questions,
        "timeline_label": workflow.event_label,
        "statuses": DossierStatus,
    }
